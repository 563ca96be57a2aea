//! A safe, backend-neutral parser for the user's full-text query.
//!
//! The raw text is reduced to plain terms that no FTS engine can misread:
//!
//! - **words**: maximal runs of Unicode letters and digits; every other character separates words
//!   (so `title:x`, `NEAR(`, `^`, `-`, `'; DROP TABLE` are just words and separators);
//! - **phrases**: text between double quotes, itself split into words; an unterminated quote runs to
//!   the end of the text; a phrase of one word is a word, an empty phrase is dropped;
//! - **prefix**: a `*` directly after the last word of the query makes it a prefix term
//!   (`*` anywhere else is a separator).
//!
//! Words are lowercased; operator words (`AND`, `OR`, `NOT`, `NEAR`) stay plain words. At most
//! [`MAX_WORDS`] words are kept (phrase words count) and each word is cut to [`MAX_WORD_CHARS`]
//! characters. Backends render the terms into their own syntax, always quoting every word, and
//! AND all terms together.

/// Most words a query keeps (later ones are ignored).
pub const MAX_WORDS: usize = 64;
/// Longest word kept, in characters (longer words are truncated).
pub const MAX_WORD_CHARS: usize = 100;

/// One search term. Every string in it is a non-empty run of Unicode letters/digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FtsTerm {
    /// A word that must occur.
    Word(String),
    /// Words that must occur next to each other, in order (at least two).
    Phrase(Vec<String>),
    /// A word prefix (`pre*`).
    Prefix(String),
}

/// The terms of a query, all of which must match. Empty when the text has no usable word.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FtsQuery {
    /// The terms, in the order written.
    pub terms: Vec<FtsTerm>,
}

impl FtsQuery {
    /// Parses raw user text; never fails.
    pub fn parse(raw: &str) -> Self {
        let mut p = Parser::default();
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '"' {
                p.end_word();
                p.in_phrase = !p.in_phrase;
                if !p.in_phrase {
                    p.end_phrase();
                }
            } else if c.is_alphanumeric() {
                p.push_char(c);
            } else {
                let star = c == '*' && !p.in_phrase;
                let kept = p.end_word();
                if star && kept && no_more_words(chars.clone()) {
                    p.mark_prefix();
                }
            }
        }
        p.end_word();
        p.end_phrase();
        Self { terms: p.terms }
    }

    /// True when there is nothing to search for (the caller lists newest first instead).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// True when the rest of the text holds no word (so the `*` ends the query).
fn no_more_words(mut rest: impl Iterator<Item = char>) -> bool {
    rest.all(|c| !c.is_alphanumeric())
}

#[derive(Default)]
struct Parser {
    terms: Vec<FtsTerm>,
    word: String,
    word_chars: usize,
    phrase: Vec<String>,
    in_phrase: bool,
    words_total: usize,
}

impl Parser {
    fn push_char(&mut self, c: char) {
        if self.word_chars < MAX_WORD_CHARS {
            self.word.push(c);
            self.word_chars += 1;
        }
    }

    /// Ends the current word; true if one was kept.
    fn end_word(&mut self) -> bool {
        if self.word.is_empty() {
            return false;
        }
        let word = std::mem::take(&mut self.word);
        self.word_chars = 0;
        if self.words_total >= MAX_WORDS {
            return false;
        }
        self.words_total += 1;
        if self.in_phrase {
            self.phrase.push(word);
        } else {
            self.terms.push(FtsTerm::Word(word));
        }
        true
    }

    fn end_phrase(&mut self) {
        let mut words = std::mem::take(&mut self.phrase);
        match words.len() {
            0 => {}
            1 => self.terms.push(FtsTerm::Word(words.remove(0))),
            _ => self.terms.push(FtsTerm::Phrase(words)),
        }
    }

    fn mark_prefix(&mut self) {
        if let Some(FtsTerm::Word(w)) = self.terms.last_mut() {
            let w = std::mem::take(w);
            *self.terms.last_mut().expect("just matched") = FtsTerm::Prefix(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FtsTerm::{Phrase, Prefix, Word};
    use super::*;

    fn w(s: &str) -> FtsTerm {
        Word(s.into())
    }

    fn terms(raw: &str) -> Vec<FtsTerm> {
        FtsQuery::parse(raw).terms
    }

    #[test]
    fn words_are_split_on_anything_but_letters_and_digits() {
        assert_eq!(terms("Rust  async-await v2"), vec![w("Rust"), w("async"), w("await"), w("v2")]);
        assert_eq!(terms("title:x col:"), vec![w("title"), w("x"), w("col")]);
        assert_eq!(terms("Ünïcödé 日本語"), vec![w("Ünïcödé"), w("日本語")]);
        assert_eq!(terms("machine_learning"), vec![w("machine"), w("learning")]);
    }

    #[test]
    fn phrases_and_unterminated_quotes() {
        assert_eq!(terms(r#"x "a  Phrase" y"#), vec![w("x"), Phrase(vec!["a".into(), "Phrase".into()]), w("y")]);
        assert_eq!(terms(r#""unterminated"#), vec![w("unterminated")]);
        assert_eq!(terms(r#"a "b c"#), vec![w("a"), Phrase(vec!["b".into(), "c".into()])]);
        assert_eq!(terms(r#""""#), vec![]);
        assert_eq!(terms(r#"" ""#), vec![]);
    }

    #[test]
    fn trailing_star_makes_a_prefix_only_on_the_last_word() {
        assert_eq!(terms("data pre*"), vec![w("data"), Prefix("pre".into())]);
        assert_eq!(terms("pre* "), vec![Prefix("pre".into())]);
        assert_eq!(terms("pre*!"), vec![Prefix("pre".into())]);
        assert_eq!(terms("foo* bar"), vec![w("foo"), w("bar")]);
        assert_eq!(terms("foo *"), vec![w("foo")]);
        assert_eq!(terms("*"), vec![]);
        assert_eq!(terms("\"ab*\""), vec![w("ab")]);
        assert_eq!(terms("ab* \"cd\""), vec![w("ab"), w("cd")]);
    }

    #[test]
    fn operators_and_syntax_are_plain_words_or_separators() {
        assert_eq!(terms("a AND OR"), vec![w("a"), w("AND"), w("OR")]);
        assert_eq!(terms("NEAR("), vec![w("NEAR")]);
        assert_eq!(terms("'; DROP TABLE memories; --"), vec![w("DROP"), w("TABLE"), w("memories")]);
        for raw in ["-", "^", "🎉🔥", "()", ":*", "&|!<->", ""] {
            assert!(FtsQuery::parse(raw).is_empty(), "{raw}");
        }
        assert_eq!(terms("party 🎉"), vec![w("party")]);
    }

    #[test]
    fn long_input_is_capped() {
        let many = "word ".repeat(2_000);
        assert_eq!(terms(&many).len(), MAX_WORDS);
        let phrase = format!("\"{}\" tail", "x ".repeat(100));
        let t = terms(&phrase);
        assert_eq!(t.len(), 1, "the phrase used up every word");
        assert!(matches!(&t[0], Phrase(p) if p.len() == MAX_WORDS));
        let long = "a".repeat(10_000);
        assert_eq!(terms(&long), vec![w(&"a".repeat(MAX_WORD_CHARS))]);
    }
}
