//! Full-text search: ranking, query syntax, filters, hostile input, index maintenance.

use super::fixtures::{archived, long, mem, owner, put, scoped, tagged};
use crate::{MemoryQuery, SearchHit, SearchQuery, Store};
use wm_domain::ids::UserId;
use wm_domain::memory::MemoryType;

fn q(text: &str) -> SearchQuery {
    SearchQuery { text: Some(text.into()), limit: 50, ..SearchQuery::default() }
}

async fn hits(s: &dyn Store, u: UserId, query: SearchQuery) -> Vec<SearchHit> {
    match s.search_memories(u, &query).await {
        Ok(h) => h,
        Err(e) => panic!("search {:?} failed: {e}", query.text),
    }
}

async fn titles(s: &dyn Store, u: UserId, query: SearchQuery) -> Vec<String> {
    hits(s, u, query).await.into_iter().map(|h| h.memory.title).collect()
}

/// Memories that never match the test words, so every word is rare (positive IDF).
fn fillers() -> Vec<wm_domain::memory::Memory> {
    (0..6).map(|i| mem(&format!("Filler {i}"), "plain unrelated text about nothing", i)).collect()
}

/// A word in the title outranks one in the tags, which outranks one in the body.
pub async fn memories_search_ranks_title_over_tags_over_body(s: &dyn Store) {
    let u = owner(s, "rank@example.com").await;
    put(s, u, fillers()).await;
    put(
        s,
        u,
        vec![
            mem("Travel notes", "we saw a zebra near the river", 10),
            tagged(mem("Travel diary", "we saw animals near the river", 11), &["zebra"]),
            mem("Zebra sighting", "we saw animals near the river", 12),
            mem("Older twin", "a zebra in the body", 13),
            mem("Newer twin", "a zebra in the body", 14),
        ],
    )
    .await;
    let found = hits(s, u, q("zebra")).await;
    let names: Vec<_> = found.iter().map(|h| h.memory.title.as_str()).collect();
    assert_eq!(names[..2], ["Zebra sighting", "Travel diary"], "title > tags > body: {names:?}");
    assert_eq!(names.len(), 5);
    assert!(found[0].score > found[1].score && found[1].score > found[2].score, "higher is better");
    let twins: Vec<_> = names.iter().filter(|n| n.ends_with("twin")).collect();
    assert_eq!(twins, [&"Newer twin", &"Older twin"], "equal scores: newest first");
    assert_eq!(titles(s, u, q("ZEBRA")).await.len(), 5, "case-insensitive");
}

/// Words are AND-ed, quoted phrases keep order, a trailing `*` is a prefix.
pub async fn memories_search_words_phrases_and_prefix(s: &dyn Store) {
    let u = owner(s, "syntax@example.com").await;
    put(s, u, fillers()).await;
    put(
        s,
        u,
        vec![
            mem("Fox one", "the quick brown fox jumps", 10),
            mem("Fox two", "brown quick fox sleeps", 11),
            tagged(mem("Cluster", "kubernetes cluster upgrade", 12), &["machine_learning"]),
        ],
    )
    .await;
    assert_eq!(titles(s, u, q("quick fox")).await.len(), 2, "words are AND-ed");
    assert_eq!(titles(s, u, q("fox jumps")).await, ["Fox one"]);
    assert!(titles(s, u, q("quick zebra")).await.is_empty(), "every word must match");
    assert_eq!(titles(s, u, q("\"quick brown\"")).await, ["Fox one"], "phrase keeps order");
    assert_eq!(titles(s, u, q("\"brown quick\" sleeps")).await, ["Fox two"]);
    assert_eq!(titles(s, u, q("\"quick brown")).await, ["Fox one"], "unterminated phrase");
    assert_eq!(titles(s, u, q("kube*")).await, ["Cluster"], "trailing prefix");
    assert_eq!(titles(s, u, q("upgrade clust*")).await, ["Cluster"]);
    assert!(titles(s, u, q("kube")).await.is_empty(), "no star, no prefix");
    assert_eq!(titles(s, u, q("learning")).await, ["Cluster"], "tag words are searchable");
}

/// Search filters, `include_archived`, and newest-first with score 0 without a usable query.
pub async fn memories_search_filters_and_archived(s: &dyn Store) {
    let u = owner(s, "sfilter@example.com").await;
    put(s, u, fillers()).await;
    put(
        s,
        u,
        vec![
            tagged(mem("z1", "zebra", 10), &["a"]),
            scoped(long(tagged(mem("z2", "zebra", 11), &["a", "b"])), "s:1"),
            archived(mem("z3", "zebra", 12), 13),
            mem("other", "no match here", 14),
        ],
    )
    .await;
    let mut names = titles(s, u, q("zebra")).await;
    names.sort();
    assert_eq!(names, ["z1", "z2"], "archived excluded by default");
    let mut names = titles(s, u, SearchQuery { include_archived: true, ..q("zebra") }).await;
    names.sort();
    assert_eq!(names, ["z1", "z2", "z3"]);
    assert_eq!(titles(s, u, SearchQuery { memory_type: Some(MemoryType::LongTerm), ..q("zebra") }).await, ["z2"]);
    assert_eq!(titles(s, u, SearchQuery { scope: Some("s:1".into()), ..q("zebra") }).await, ["z2"]);
    assert_eq!(titles(s, u, SearchQuery { tags: vec!["a".into(), "b".into()], ..q("zebra") }).await, ["z2"]);
    assert_eq!(titles(s, u, SearchQuery { limit: 1, ..q("zebra") }).await.len(), 1);

    for text in [None, Some(""), Some("   "), Some("*")] {
        let query = SearchQuery { text: text.map(Into::into), limit: 3, ..SearchQuery::default() };
        let found = hits(s, u, query).await;
        let names: Vec<_> = found.iter().map(|h| h.memory.title.as_str()).collect();
        assert_eq!(names, ["other", "z2", "z1"], "{text:?}: newest active first");
        assert!(found.iter().all(|h| h.score == 0.0), "{text:?}: score 0");
    }
    let tagged_only = SearchQuery { tags: vec!["a".into()], limit: 10, ..SearchQuery::default() };
    assert_eq!(titles(s, u, tagged_only).await, ["z2", "z1"], "filters apply without a query");
}

/// No query text, however hostile, makes search fail.
pub async fn memories_search_survives_nasty_queries(s: &dyn Store) {
    let u = owner(s, "nasty@example.com").await;
    put(s, u, vec![mem("Title x", "col: value; NEAR the drop table", 1), mem("Second", "emoji 🎉 party", 2)]).await;
    let mut big = String::new();
    while big.len() < 10 * 1024 {
        big.push_str("\"zebra AND (x OR y) NEAR/3 title:* ^-' ; 🎉 \\ ");
    }
    let nasty = [
        "\"unterminated",
        "a AND OR",
        "*",
        "NEAR(",
        "'; DROP TABLE memories; --",
        "🎉🔥",
        "\"\"",
        "-",
        "^",
        "title:x",
        "col:",
        "x OR",
        "NOT",
        "AND",
        "(",
        ")",
        "{x}",
        "x:*",
        "!x & y | z",
        "<->",
        "\\",
        "'",
        "''",
        "a\0b",
        "\u{200b}",
        "\u{301}e",
        "ｆｕｌｌｗｉｄｔｈ",
        "x*y*",
        "**",
        "\"a\" \"b",
        "NEAR(a b, 3)",
    ];
    for text in nasty.iter().copied().chain([big.as_str()]) {
        let preview: String = text.chars().take(40).collect();
        for include_archived in [false, true] {
            let query = SearchQuery { text: Some(text.into()), include_archived, limit: 10, ..Default::default() };
            let res = s.search_memories(u, &query).await;
            assert!(res.is_ok(), "{preview:?}: {res:?}");
        }
    }
    let emoji_only = hits(s, u, q("🎉")).await;
    assert_eq!(emoji_only.len(), 2, "no usable word: newest first");
    assert_eq!(titles(s, u, q("title:x")).await, ["Title x"], "syntax characters are separators");
    assert_eq!(titles(s, u, q("party 🎉")).await, ["Second"]);
    let rows = s.list_memories(u, &MemoryQuery { limit: 10, ..Default::default() }).await.unwrap();
    assert_eq!(rows.len(), 2, "the table is still there");
}

/// The full-text index and tag filters follow updates, touches and deletes.
pub async fn memories_search_follows_updates_and_deletes(s: &dyn Store) {
    let u = owner(s, "reindex@example.com").await;
    put(s, u, fillers()).await;
    let [m] = <[_; 1]>::try_from(put(s, u, vec![mem("Alpha quokka", "quokka facts", 10)]).await).unwrap();
    assert_eq!(titles(s, u, q("quokka")).await, ["Alpha quokka"]);
    let mut changed = m.clone();
    changed.title = "Alpha wombat".into();
    changed.content = "wombat facts".into();
    changed.tags = vec!["numbat".into()];
    changed.refresh_derived();
    assert!(s.update_memory(u, &changed, None).await.unwrap());
    assert!(titles(s, u, q("quokka")).await.is_empty(), "old words leave the index");
    assert_eq!(titles(s, u, q("wombat")).await, ["Alpha wombat"]);
    assert_eq!(titles(s, u, q("numbat")).await, ["Alpha wombat"], "new tags are indexed");
    let by_tag = SearchQuery { tags: vec!["numbat".into()], limit: 5, ..SearchQuery::default() };
    assert_eq!(titles(s, u, by_tag).await, ["Alpha wombat"], "tag filter follows updates");
    s.touch_memories(u, &[m.id], super::fixtures::t(99)).await.unwrap();
    assert_eq!(titles(s, u, q("wombat")).await, ["Alpha wombat"], "touch keeps the index");
    assert!(s.delete_memory(u, m.id).await.unwrap());
    assert!(titles(s, u, q("wombat")).await.is_empty(), "deleted rows leave the index");
    assert!(titles(s, u, SearchQuery { tags: vec!["numbat".into()], limit: 5, ..Default::default() }).await.is_empty());
}

/// A trailing prefix matches the words as written, not their stems: `deploy*` finds "deployment"
/// and "deployed", `deployme*` only "deployment", and it combines with words and phrases.
pub async fn memories_search_prefix_matches_unstemmed_words(s: &dyn Store) {
    let u = owner(s, "prefix@example.com").await;
    put(s, u, fillers()).await;
    put(
        s,
        u,
        vec![
            mem("Deployment guide", "zero downtime rollout with blue and green stacks", 10),
            mem("Friday hotfix", "we deployed it after the downtime; zero errors since", 11),
            tagged(mem("Schema changes", "ran the migrations twice", 12), &["database"]),
            mem("Later", "redeploying tomorrow", 13),
        ],
    )
    .await;
    assert_eq!(titles(s, u, q("deploy*")).await, ["Deployment guide", "Friday hotfix"], "title before body");
    assert_eq!(titles(s, u, q("DEPLOY*")).await.len(), 2, "case-insensitive");
    assert_eq!(titles(s, u, q("deployme*")).await, ["Deployment guide"]);
    assert_eq!(titles(s, u, q("deployed*")).await, ["Friday hotfix"], "a whole word with a star");
    assert_eq!(titles(s, u, q("migrat*")).await, ["Schema changes"]);
    assert_eq!(titles(s, u, q("database migrat*")).await, ["Schema changes"], "word and prefix");
    assert_eq!(titles(s, u, q("\"zero downtime\" deploy*")).await, ["Deployment guide"], "phrase and prefix");
    assert!(titles(s, u, q("twice deploy*")).await.is_empty(), "every term must match");
    assert!(titles(s, u, q("deployments*")).await.is_empty(), "a prefix longer than the word");
    let archived_too = SearchQuery { include_archived: true, tags: vec!["database".into()], ..q("migrat*") };
    assert_eq!(titles(s, u, archived_too).await, ["Schema changes"], "filters apply to prefix queries");
}

/// `q(text)` ranking at most `candidates` matches.
fn bounded(text: &str, candidates: u32) -> SearchQuery {
    SearchQuery { candidates, ..q(text) }
}

/// Five active matches of "koala", oldest first; the oldest matches best (title). Also a newer
/// memory that does not match and a newest archived match. Returns nothing; titles are fixed.
async fn koalas(s: &dyn Store, u: UserId) {
    put(s, u, fillers()).await;
    put(
        s,
        u,
        vec![
            scoped(mem("Koala title", "eucalyptus all day", 10), "s:1"),
            scoped(tagged(mem("Older note", "eucalyptus all day", 11), &["koala"]), "s:1"),
            mem("Plain a", "a koala in the body", 12),
            tagged(mem("Tagged b", "eucalyptus all day", 13), &["koala"]),
            mem("Koala again", "eucalyptus all day", 14),
            mem("Unrelated", "eucalyptus all day", 15),
            archived(mem("Koala archived", "eucalyptus all day", 16), 17),
        ],
    )
    .await;
}

/// When a query matches more memories than `candidates`, only the most recent `candidates`
/// matches (after the filters) are ranked: an older, better match is left out, and the
/// candidates are ordered by score. Words, prefixes and a word with a prefix alike.
pub async fn memories_search_ranks_only_the_newest_candidates(s: &dyn Store) {
    let u = owner(s, "bounded@example.com").await;
    koalas(s, u).await;
    let newest_three = ["Koala again", "Tagged b", "Plain a"];
    for text in ["koala", "koal*", "koala koal*", "KOALA"] {
        let found = hits(s, u, bounded(text, 3)).await;
        let names: Vec<_> = found.iter().map(|h| h.memory.title.as_str()).collect();
        assert_eq!(names, newest_three, "{text}: the 3 newest, title > tags > body");
        assert!(found[0].score > found[1].score && found[1].score > found[2].score, "{text}: by score");
    }
    assert_eq!(titles(s, u, bounded("koala", 3)).await.len(), 3, "the best match (oldest) is not ranked");
    let page = titles(s, u, SearchQuery { limit: 2, ..bounded("koala", 3) }).await;
    assert_eq!(page, newest_three[..2], "the best `limit` of the candidates");

    // The filters apply before the bound: archived, scope, type and tag filters pick the
    // candidates among the memories they let through.
    let mut with_archived = titles(s, u, SearchQuery { include_archived: true, ..bounded("koala", 3) }).await;
    with_archived.sort();
    assert_eq!(with_archived, ["Koala again", "Koala archived", "Tagged b"]);
    let scoped_one = SearchQuery { scope: Some("s:1".into()), ..bounded("koala", 1) };
    assert_eq!(titles(s, u, scoped_one).await, ["Older note"], "newest match within the scope");
    let tagged_one = SearchQuery { tags: vec!["koala".into()], ..bounded("koala", 1) };
    assert_eq!(titles(s, u, tagged_one).await, ["Tagged b"], "newest match with the tag");
    let long_only = SearchQuery { memory_type: Some(MemoryType::LongTerm), ..bounded("koala", 1) };
    assert!(titles(s, u, long_only).await.is_empty());
    // Without a usable query nothing is ranked: newest first, unaffected.
    let newest = SearchQuery { text: None, limit: 4, candidates: 1, ..SearchQuery::default() };
    assert_eq!(titles(s, u, newest).await, ["Unrelated", "Koala again", "Tagged b", "Plain a"]);
}

/// With at least as many candidates as matches, results (order and scores) are exact ranking.
pub async fn memories_search_exact_when_candidates_cover_matches(s: &dyn Store) {
    let u = owner(s, "exact@example.com").await;
    koalas(s, u).await;
    let scored = |found: Vec<SearchHit>| found.into_iter().map(|h| (h.memory.title, h.score)).collect::<Vec<_>>();
    for text in ["koala", "koal*", "koala koal*", "\"koala in\" body"] {
        let exact = scored(hits(s, u, bounded(text, u32::MAX)).await);
        assert!(!exact.is_empty(), "{text}");
        for candidates in [5, 6, 1_000] {
            assert_eq!(scored(hits(s, u, bounded(text, candidates)).await), exact, "{text}, {candidates}");
        }
    }
    let all = scored(hits(s, u, bounded("koala", 5)).await);
    let names: Vec<_> = all.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(names.len(), 5);
    assert_eq!(names[..2], ["Koala again", "Koala title"], "the title matches first, newest first on a tie");
    assert_eq!(names[4], "Plain a", "the body match last");
}

/// Other accounts' matches, however many and however new, never use up an account's candidates.
pub async fn memories_search_candidates_are_per_account(s: &dyn Store) {
    let mine = owner(s, "small@example.com").await;
    let big = owner(s, "big@example.com").await;
    put(s, mine, fillers()).await;
    put(s, big, fillers()).await;
    put(
        s,
        mine,
        vec![
            mem("Mine wombat", "burrow", 10),
            tagged(mem("Mine tagged", "burrow", 11), &["wombat"]),
            mem("Mine body", "a wombat burrow", 12),
        ],
    )
    .await;
    let theirs: Vec<_> = (0..12).map(|i| mem(&format!("Their wombat {i}"), "wombat burrow", 20 + i)).collect();
    put(s, big, theirs).await;
    for text in ["wombat", "womb*", "burrow womb*"] {
        let names = titles(s, mine, bounded(text, 3)).await;
        assert_eq!(names.len(), 3, "{text}: every one of mine, none of theirs: {names:?}");
        assert!(names.iter().all(|n| n.starts_with("Mine")), "{text}: {names:?}");
        let theirs = titles(s, big, bounded(text, 3)).await;
        assert_eq!(theirs.len(), 3, "{text}");
        assert!(theirs.iter().all(|n| n.starts_with("Their")), "{text}: {theirs:?}");
    }
    assert_eq!(titles(s, mine, bounded("wombat", 3)).await[0], "Mine wombat", "exact: title first");
    let newest_two = titles(s, big, bounded("wombat", 2)).await;
    let mut sorted = newest_two.clone();
    sorted.sort();
    assert_eq!(sorted, ["Their wombat 10", "Their wombat 11"], "their newest two");
}

/// One task of [`memories_concurrent_searches_all_answer`]: a search's titles, or a write (`None`).
type Task<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Option<Vec<String>>> + Send + 'a>>;

/// Many searches at once, while memories are being written, all answer, and answer right.
/// PostgreSQL runs searches on a few connections of their own (two in this suite), so most of
/// these wait for one: none may fail for it, nor wait on the writes.
pub async fn memories_concurrent_searches_all_answer(s: &dyn Store) {
    let u = owner(s, "busy@example.com").await;
    let mut otters: Vec<_> = (0..30).map(|i| mem(&format!("Otter {i}"), "a river otter swims", i)).collect();
    otters.push(mem("Beaver dam", "a beaver builds", 40));
    put(s, u, otters).await;
    // Each query with how many memories it finds.
    let searches = [("otter", 30), ("beaver", 1), ("rive*", 30), ("\"river otter\"", 30), ("otter beav*", 0)];
    let herons: Vec<_> = (0..4).map(|i| vec![mem(&format!("Heron {i}"), "a heron waits", 50 + i)]).collect();
    let mut tasks: Vec<Task<'_>> = (0..24)
        .map(|i| -> Task<'_> { Box::pin(async move { Some(titles(s, u, q(searches[i % 5].0)).await) }) })
        .collect();
    for ms in &herons {
        tasks.push(Box::pin(async move {
            s.insert_memories(u, ms, None).await.expect("a write during the searches");
            None
        }));
    }
    let results = crate::conformance::join_all(tasks).await;
    for (i, found) in results.iter().take(24).enumerate() {
        let (text, expected) = searches[i % 5];
        let found = found.as_ref().expect("a search");
        assert_eq!(found.len(), expected, "{text}: {found:?}");
    }
    assert_eq!(titles(s, u, q("heron")).await.len(), 4, "every write stored");
}
