use crate::{NewApiKey, NewUser, Store, StoreError, UserPatch, UserQuery};
use chrono::{DateTime, Duration, TimeZone, Utc};
use wm_domain::account::{Role, User};
use wm_domain::api_key::{ApiKey, KeyEnv};
use wm_domain::email::Email;
use wm_domain::ids::{KeyId, UserId};
use wm_domain::plan::PlanName;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + Duration::microseconds(123_456)
}

async fn user(s: &dyn Store, email: &str) -> User {
    s.create_user(NewUser {
        id: UserId::new(),
        email: Email::parse(email).unwrap(),
        role: Role::User,
        plan: PlanName::free(),
        now: t0(),
    })
    .await
    .unwrap()
}

fn new_key(user: UserId, name: &str) -> (ApiKey, NewApiKey) {
    let raw = ApiKey::generate(KeyEnv::Test);
    let key = NewApiKey {
        id: KeyId::new(),
        user_id: user,
        name: name.into(),
        prefix: raw.prefix().into(),
        hash: raw.hash(),
        created_at: t0(),
        expires_at: None,
    };
    (raw, key)
}

pub async fn users_create_get_and_find(s: &dyn Store) {
    let u = user(s, "Ada@Example.com").await;
    assert_eq!(u.email.as_str(), "ada@example.com");
    assert_eq!(u.created_at, t0(), "timestamps keep microseconds");
    assert_eq!(s.get_user(u.id).await.unwrap(), Some(u.clone()));
    let by_email = s.find_user_by_email(&Email::parse("ada@example.com").unwrap()).await.unwrap();
    assert_eq!(by_email, Some(u.clone()));
    assert_eq!(s.get_user(UserId::new()).await.unwrap(), None);
    assert_eq!(s.count_users().await.unwrap(), 1);
}

pub async fn users_email_is_unique(s: &dyn Store) {
    user(s, "dup@example.com").await;
    let again = s
        .create_user(NewUser {
            id: UserId::new(),
            email: Email::parse("DUP@example.com").unwrap(),
            role: Role::Admin,
            plan: PlanName::free(),
            now: t0(),
        })
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(s.count_users().await.unwrap(), 1);
}

pub async fn users_list_pages_and_filters(s: &dyn Store) {
    for i in 0..5 {
        user(s, &format!("user{i}@alpha.io")).await;
    }
    user(s, "other@beta.io").await;
    let page1 = s.list_users(&UserQuery { q: None, limit: 4, after: None }).await.unwrap();
    assert_eq!(page1.len(), 4);
    let page2 = s.list_users(&UserQuery { q: None, limit: 4, after: Some(page1[3].id) }).await.unwrap();
    assert_eq!(page2.len(), 2);
    let mut ids: Vec<_> = page1.iter().chain(&page2).map(|u| u.id).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "pages do not overlap");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    let alpha = s.list_users(&UserQuery { q: Some("ALPHA".into()), limit: 50, after: None }).await.unwrap();
    assert_eq!(alpha.len(), 5);
    let pct = s.list_users(&UserQuery { q: Some("%".into()), limit: 50, after: None }).await.unwrap();
    assert!(pct.is_empty(), "LIKE wildcards in q are literal");
}

pub async fn users_update_patch(s: &dyn Store) {
    let u = user(s, "patch@example.com").await;
    let later = t0() + Duration::hours(1);
    let patch = UserPatch { plan: Some(PlanName::parse("pro").unwrap()), role: None, suspended: Some(true) };
    let got = s.update_user(u.id, &patch, later).await.unwrap().unwrap();
    assert_eq!(got.plan.as_str(), "pro");
    assert_eq!(got.role, Role::User);
    assert!(got.suspended);
    assert_eq!(got.updated_at, later);
    assert_eq!(s.get_user(u.id).await.unwrap().unwrap(), got);
    assert!(s.update_user(UserId::new(), &patch, later).await.unwrap().is_none());
}

pub async fn keys_insert_find_and_list(s: &dyn Store) {
    let u = user(s, "keys@example.com").await;
    let (raw, k) = new_key(u.id, "laptop");
    let rec = s.insert_key(k.clone()).await.unwrap();
    assert_eq!(rec.name, "laptop");
    assert_eq!(rec.prefix, raw.prefix());
    let (found, owner) = s.find_key_by_hash(&raw.hash()).await.unwrap().unwrap();
    assert_eq!(found, rec);
    assert_eq!(owner, u);
    assert!(s.find_key_by_hash(&ApiKey::generate(KeyEnv::Test).hash()).await.unwrap().is_none());
    let dup = s.insert_key(NewApiKey { id: KeyId::new(), ..k }).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "same hash twice: {dup:?}");
    let (_, mut k2) = new_key(u.id, "ci");
    k2.created_at = t0() + Duration::seconds(1);
    s.insert_key(k2).await.unwrap();
    let names: Vec<_> = s.list_keys(u.id).await.unwrap().into_iter().map(|k| k.name).collect();
    assert_eq!(names, ["ci", "laptop"], "newest first");
}

pub async fn keys_are_scoped_to_their_user(s: &dyn Store) {
    let a = user(s, "a@example.com").await;
    let b = user(s, "b@example.com").await;
    let (_, k) = new_key(a.id, "a-key");
    let rec = s.insert_key(k).await.unwrap();
    assert!(s.get_key(b.id, rec.id).await.unwrap().is_none());
    assert!(s.revoke_key(b.id, rec.id, t0()).await.unwrap().is_none());
    assert!(s.list_keys(b.id).await.unwrap().is_empty());
    let (_, nk) = new_key(b.id, "steal");
    assert!(s.rotate_key(b.id, rec.id, nk, t0()).await.unwrap().is_none());
    assert!(s.get_key(a.id, rec.id).await.unwrap().unwrap().revoked_at.is_none());
}

pub async fn keys_revoke(s: &dyn Store) {
    let u = user(s, "rev@example.com").await;
    let (raw, k) = new_key(u.id, "k");
    let rec = s.insert_key(k).await.unwrap();
    let at = t0() + Duration::minutes(5);
    let revoked = s.revoke_key(u.id, rec.id, at).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(at));
    let again = s.revoke_key(u.id, rec.id, at + Duration::minutes(1)).await.unwrap().unwrap();
    assert_eq!(again.revoked_at, Some(at), "first revocation time is kept");
    let (found, _) = s.find_key_by_hash(&raw.hash()).await.unwrap().unwrap();
    assert!(!found.is_usable(at));
}

pub async fn keys_rotate_sets_old_expiry(s: &dyn Store) {
    let u = user(s, "rot@example.com").await;
    let (_, k) = new_key(u.id, "old");
    let old = s.insert_key(k).await.unwrap();
    let (new_raw, nk) = new_key(u.id, "old");
    let grace_end = t0() + Duration::minutes(10);
    let new = s.rotate_key(u.id, old.id, nk, grace_end).await.unwrap().unwrap();
    assert_eq!(s.find_key_by_hash(&new_raw.hash()).await.unwrap().unwrap().0, new);
    let old_now = s.get_key(u.id, old.id).await.unwrap().unwrap();
    assert_eq!(old_now.expires_at, Some(grace_end));
    // A later rotation never extends an earlier expiry.
    let (_, nk2) = new_key(u.id, "old");
    s.rotate_key(u.id, old.id, nk2, grace_end + Duration::days(1)).await.unwrap().unwrap();
    assert_eq!(s.get_key(u.id, old.id).await.unwrap().unwrap().expires_at, Some(grace_end));
    // A revoked key cannot be rotated.
    s.revoke_key(u.id, new.id, t0()).await.unwrap();
    let (_, nk3) = new_key(u.id, "x");
    assert!(s.rotate_key(u.id, new.id, nk3, grace_end).await.unwrap().is_none());
}

pub async fn keys_touch_moves_forward_only(s: &dyn Store) {
    let u = user(s, "touch@example.com").await;
    let (_, k) = new_key(u.id, "k");
    let rec = s.insert_key(k).await.unwrap();
    let t1 = t0() + Duration::hours(1);
    s.touch_keys(&[(rec.id, t1), (KeyId::new(), t1)]).await.unwrap();
    s.touch_keys(&[(rec.id, t0())]).await.unwrap();
    assert_eq!(s.get_key(u.id, rec.id).await.unwrap().unwrap().last_used_at, Some(t1));
    assert_eq!(s.get_user(u.id).await.unwrap().unwrap().last_seen_at, Some(t1));
    s.touch_keys(&[]).await.unwrap();
}
