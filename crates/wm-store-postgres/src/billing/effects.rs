//! An event's effects as one statement: each insert or update is a data-modifying CTE, so the
//! whole write-set costs one round trip inside the event's transaction. Foreign keys between the
//! parts (a new user's key, claim token and subscription) are checked at the end of the
//! statement, after every part ran.

use crate::backend::db_err;
use sqlx::postgres::PgArguments;
use sqlx::{Arguments, PgConnection, Postgres, Row};
use wm_store::{BillingWrite, StoreError, StoreResult};

/// A statement under construction: CTE bodies and their bound values.
#[derive(Default)]
struct Statement {
    parts: Vec<(&'static str, String)>,
    args: PgArguments,
    count: usize,
    error: Option<String>,
}

impl Statement {
    /// Bind `value`; its placeholder.
    fn bind<T>(&mut self, value: T) -> String
    where
        T: for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres> + Send + 'static,
    {
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e.to_string());
        }
        self.count += 1;
        format!("${}", self.count)
    }

    fn part(&mut self, name: &'static str, sql: String) {
        self.parts.push((name, sql));
    }
}

pub(crate) async fn write(c: &mut PgConnection, w: &BillingWrite) -> StoreResult<()> {
    let mut q = Statement::default();
    if let Some(u) = &w.create_user {
        let (id, email, role, plan, now) = (
            q.bind(u.id.0),
            q.bind(u.email.as_str().to_owned()),
            q.bind(u.role.as_str()),
            q.bind(u.plan.as_str().to_owned()),
            q.bind(u.now),
        );
        q.part(
            "new_user",
            format!(
                "INSERT INTO users (id, email, role, plan, suspended, created_at, updated_at) \
                 VALUES ({id}, {email}, {role}, {plan}, FALSE, {now}, {now})"
            ),
        );
    }
    if let Some(l) = &w.link_customer {
        let (p, cust, user, at) =
            (q.bind(l.provider.clone()), q.bind(l.customer_id.clone()), q.bind(l.user_id.0), q.bind(w.at));
        q.part(
            "link",
            format!(
                "INSERT INTO billing_customers (provider, customer_id, user_id, created_at) \
                 VALUES ({p}, {cust}, {user}, {at}) ON CONFLICT (provider, customer_id) DO NOTHING"
            ),
        );
    }
    if let Some((user, plan)) = &w.set_plan {
        let (plan, at, user) = (q.bind(plan.as_str().to_owned()), q.bind(w.at), q.bind(user.0));
        q.part("plan", format!("UPDATE users SET plan = {plan}, updated_at = {at} WHERE id = {user}"));
    }
    if let Some(user) = w.revoke_keys_of {
        let (at, user) = (q.bind(w.at), q.bind(user.0));
        q.part(
            "revoke",
            format!("UPDATE api_keys SET revoked_at = {at} WHERE user_id = {user} AND revoked_at IS NULL"),
        );
    }
    if let Some(k) = &w.new_key {
        let v = [
            q.bind(k.id.0),
            q.bind(k.user_id.0),
            q.bind(k.name.clone()),
            q.bind(k.prefix.clone()),
            q.bind(k.hash.as_str().to_owned()),
            q.bind(k.created_at),
            q.bind(k.expires_at),
        ];
        q.part(
            "key",
            format!(
                "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, expires_at) VALUES ({})",
                v.join(", ")
            ),
        );
    }
    if let Some(t) = &w.claim {
        let v = [
            q.bind(t.token_hash.as_str().to_owned()),
            q.bind(t.key_id.0),
            q.bind(t.user_id.0),
            q.bind(t.created_at),
            q.bind(t.expires_at),
        ];
        q.part(
            "claim",
            format!(
                "INSERT INTO claim_tokens (token_hash, key_id, user_id, created_at, expires_at) VALUES ({})",
                v.join(", ")
            ),
        );
    }
    if let Some(s) = &w.subscription {
        let v = [
            q.bind(s.id),
            q.bind(s.provider.clone()),
            q.bind(s.provider_subscription_id.clone()),
            q.bind(s.provider_customer_id.clone()),
            q.bind(s.provider_membership_id.clone()),
            q.bind(s.user_id.0),
            q.bind(s.plan.as_str().to_owned()),
            q.bind(s.status.as_str()),
            q.bind(s.period_end),
            q.bind(s.cancel_at_period_end),
            q.bind(s.grace_until),
            q.bind(s.access_ends_at),
            q.bind(s.ended_at),
            q.bind(s.last_event_at),
            q.bind(s.created_at),
            q.bind(s.updated_at),
        ];
        let exists = w.guard.as_ref().is_some_and(|g| g.seen_last_event_at.is_some());
        let sql = if exists {
            format!(
                "UPDATE subscriptions SET provider_customer_id = {}, provider_membership_id = {}, user_id = {}, \
                 plan = {}, status = {}, period_end = {}, cancel_at_period_end = {}, grace_until = {}, \
                 access_ends_at = {}, ended_at = {}, last_event_at = {}, created_at = {}, updated_at = {} \
                 WHERE id = {} AND provider = {} AND provider_subscription_id = {} RETURNING 1",
                v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[0], v[1], v[2]
            )
        } else {
            format!(
                "INSERT INTO subscriptions (id, provider, provider_subscription_id, provider_customer_id, \
                 provider_membership_id, user_id, plan, status, period_end, cancel_at_period_end, grace_until, \
                 access_ends_at, ended_at, last_event_at, created_at, updated_at) VALUES ({}) RETURNING 1",
                v.join(", ")
            )
        };
        q.part("sub", sql);
    }
    if !w.emails.is_empty() {
        let rows: Vec<String> = w
            .emails
            .iter()
            .map(|e| {
                let v = [
                    q.bind(e.id),
                    q.bind(e.to.clone()),
                    q.bind(e.subject.clone()),
                    q.bind(e.body.clone()),
                    q.bind(e.created_at),
                ];
                format!("({}, {}, {}, {}, {}, {})", v[0], v[1], v[2], v[3], v[4], v[4])
            })
            .collect();
        q.part(
            "mail",
            format!(
                "INSERT INTO email_outbox (id, to_address, subject, body, next_attempt_at, created_at) VALUES {}",
                rows.join(", ")
            ),
        );
    }
    if q.parts.is_empty() {
        return Ok(());
    }
    if let Some(e) = q.error {
        return Err(StoreError::Database(format!("binding billing effects: {e}")));
    }
    let has_sub = q.parts.iter().any(|(name, _)| *name == "sub");
    let ctes: Vec<String> = q.parts.iter().map(|(name, sql)| format!("{name} AS ({sql})")).collect();
    let tail = if has_sub { "SELECT (SELECT count(*) FROM sub) AS subs" } else { "SELECT 1::bigint AS subs" };
    let sql = format!("WITH {} {tail}", ctes.join(", "));
    let row = sqlx::query_with(&sql, q.args).fetch_one(&mut *c).await.map_err(db_err)?;
    if has_sub && row.try_get::<i64, _>("subs").map_err(db_err)? != 1 {
        return Err(StoreError::Conflict("the subscription changed while writing it".into()));
    }
    Ok(())
}
