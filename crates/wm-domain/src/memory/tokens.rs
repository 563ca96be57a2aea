//! Token counting with the cl100k_base BPE (the `tiktoken-rs` crate; its ranks are embedded in
//! the crate, nothing is downloaded). The encoder is built once per process.

use std::sync::OnceLock;
use tiktoken_rs::CoreBPE;

fn encoder() -> &'static CoreBPE {
    static BPE: OnceLock<CoreBPE> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::cl100k_base().expect("cl100k_base ranks embedded in tiktoken-rs are valid"))
}

/// Number of cl100k_base tokens in `text` (special-token text such as `<|endoftext|>` is
/// counted as ordinary text).
pub fn count_tokens(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    encoder().encode_ordinary(text).len()
}

/// Byte offset in `text` where each cl100k_base token ends (cumulative; the last equals
/// `text.len()`). Token boundaries may fall inside a multi-byte character.
pub(crate) fn token_ends(text: &str) -> Vec<usize> {
    let bpe = encoder();
    let mut end = 0;
    bpe._decode_native_and_split(bpe.encode_ordinary(text))
        .map(|bytes| {
            end += bytes.len();
            end
        })
        .collect()
}
