//! Outbound email: the [`Mailer`] port, its SMTP implementation (lettre), and the texts billing
//! sends. Emails are queued in the outbox inside the event's transaction and sent later by the
//! billing job, so a slow or failing mail server never fails a webhook.

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Sends one email. Errors are short, safe-to-store sentences (no credentials).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String>;
}

/// SMTP through lettre: `smtp://host:25` (plain), `smtp://host:587?tls=required` (STARTTLS),
/// `smtps://user:pass@host:465` (implicit TLS).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `url` sending as `from` (e.g. `WhiteMagic <no-reply@example.com>`). The error
    /// never repeats the URL (it may hold a password).
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let from: Mailbox = from.parse().map_err(|e| format!("invalid sender address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| "invalid SMTP URL: expected smtp://host:port or smtps://user:pass@host:port".to_owned())?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        Ok(Self { transport, from })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("invalid recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| format!("cannot build the message: {e}"))?;
        self.transport.send(message).await.map(drop).map_err(|e| smtp_error(&e))
    }
}

/// lettre's error text, cut short and without the server's multi-line chatter.
fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    let kind = if e.is_permanent() {
        "permanent"
    } else if e.is_transient() {
        "transient"
    } else if e.is_timeout() {
        "timeout"
    } else {
        "connection"
    };
    let text: String = e.to_string().chars().take(200).collect();
    format!("SMTP {kind} error: {text}")
}

/// A subject and body.
pub(crate) struct Text {
    pub subject: String,
    pub body: String,
}

/// The email carrying a new key's claim link.
pub(crate) fn welcome(plan: Option<&str>, claim_url: &str, expires_at: DateTime<Utc>) -> Text {
    let plan = plan.map(|p| format!(" (plan: {p})")).unwrap_or_default();
    Text {
        subject: "Your WhiteMagic API key".into(),
        body: format!(
            "Thank you for subscribing to WhiteMagic{plan}.\r\n\r\n\
             Open this link to reveal your API key. It works once and expires on {}:\r\n\r\n\
             {claim_url}\r\n\r\n\
             Keep the key secret: it gives access to your memories.\r\n\
             If you did not expect this email, you can ignore it.\r\n",
            expires_at.format("%Y-%m-%d %H:%M UTC"),
        ),
    }
}

/// The reminder after a failed payment.
pub(crate) fn payment_failed(grace_until: DateTime<Utc>) -> Text {
    Text {
        subject: "WhiteMagic: your payment failed".into(),
        body: format!(
            "We could not collect the latest payment for your WhiteMagic subscription.\r\n\r\n\
             Your access continues until {}. Please update your payment method before then\r\n\
             to keep your plan.\r\n",
            grace_until.format("%Y-%m-%d %H:%M UTC"),
        ),
    }
}

/// The notice that paid access ended.
pub(crate) fn access_ended(revoked: bool) -> Text {
    let what = if revoked {
        "Your API keys have been revoked."
    } else {
        "Your account is now on the free plan; your keys and memories are kept."
    };
    Text {
        subject: "WhiteMagic: your subscription has ended".into(),
        body: format!("Your WhiteMagic subscription has ended.\r\n\r\n{what}\r\n"),
    }
}
