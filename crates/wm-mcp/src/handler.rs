//! `ServerHandler`: capabilities, `initialize` (which binds an HTTP session to its account),
//! the tool router, and the resource methods.

use crate::resources::templates;
use crate::server::WhiteMagicMcp;
use crate::tools::TOOLS;
use rmcp::model::{
    Implementation, InitializeRequestParams, InitializeResult, ListResourceTemplatesResult, ListResourcesResult,
    PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, tool_handler};

/// What the server tells a client about itself at `initialize`.
const INSTRUCTIONS: &str = "WhiteMagic is your long-term memory. Save what is worth remembering with create_memory \
(short_term for working notes, long_term for durable knowledge; tag it). Before a task, call get_context (or \
search_memories) to recall what you know. Memories are also resources: memory://short_term, memory://long_term, \
memory://stats, memory://tags and memory://memories/{id}.";

#[tool_handler(router = TOOLS)]
impl ServerHandler for WhiteMagicMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("whitemagic", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        self.bind(&context.extensions).await.map_err(|f| f.protocol_error())?;
        context.peer.set_peer_info(request.clone());
        self.negotiate_initialize(&request)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        self.resource_page(&context.extensions, request.and_then(|r| r.cursor)).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(templates()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        self.read(&context.extensions, &request.uri).await.map(Into::into)
    }
}
