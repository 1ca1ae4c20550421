//! The append-only audit trail: every write, every sign-in attempt and every denied request leaves
//! an event here, written in the same transaction as the change it records. The database refuses
//! updates and deletes of events (triggers in the migrations); no route edits them.
//!
//! May depend on `icat_common` and `icat_store`. Its admin route lives in the server crate, because
//! the role guard it needs belongs to `icat_auth`, which itself writes here.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use icat_common::{ApiError, Page, PageParams};
use icat_store::DbConn;
use icat_store::schema::audit_events;
use serde::Serialize;

/// Who did something, and in which request: the context every write path carries.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub request_id: Option<String>,
}

/// How an audited action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

/// One event to append. `changes` must never hold a secret (passwords, hashes, tokens).
#[derive(Clone, Debug)]
pub struct NewEvent<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    pub outcome: Outcome,
    pub changes: Option<serde_json::Value>,
}

impl<'a> NewEvent<'a> {
    pub fn success(action: &'a str, entity: &'a str, entity_id: &'a str) -> Self {
        Self {
            action,
            entity,
            entity_id: Some(entity_id),
            outcome: Outcome::Success,
            changes: None,
        }
    }

    pub fn with_changes(mut self, changes: serde_json::Value) -> Self {
        self.changes = Some(changes);
        self
    }
}

/// Appends an event.
pub fn record(conn: &mut DbConn, actor: &Actor, event: &NewEvent<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::at.eq(icat_common::now()),
            audit_events::actor_id.eq(actor.user_id.as_deref()),
            audit_events::actor_email.eq(actor.email.as_deref()),
            audit_events::action.eq(event.action),
            audit_events::entity.eq(event.entity),
            audit_events::entity_id.eq(event.entity_id),
            audit_events::request_id.eq(actor.request_id.as_deref()),
            audit_events::outcome.eq(event.outcome.as_str()),
            audit_events::changes.eq(event.changes.as_ref().map(ToString::to_string)),
        ))
        .execute(conn)
        .map(drop)
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    id: i64,
    at: NaiveDateTime,
    actor_id: Option<String>,
    actor_email: Option<String>,
    action: String,
    entity: String,
    entity_id: Option<String>,
    request_id: Option<String>,
    outcome: String,
    changes: Option<String>,
}

/// An audit event as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor_id: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub request_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
}

impl From<EventRow> for Event {
    fn from(row: EventRow) -> Self {
        Event {
            id: row.id.to_string(),
            at: icat_common::utc(row.at),
            actor_id: row.actor_id,
            actor_email: row.actor_email,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            request_id: row.request_id,
            outcome: row.outcome,
            changes: row.changes.and_then(|c| serde_json::from_str(&c).ok()),
        }
    }
}

/// Filters of the audit list; all optional, combined with AND.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// A user id or an e-mail address.
    pub actor: Option<String>,
    pub entity: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

/// Lists events, newest first.
pub fn list(conn: &mut DbConn, filter: &Filter, page: PageParams) -> Result<Page<Event>, ApiError> {
    let query = || {
        let mut q = audit_events::table.into_boxed();
        if let Some(actor) = &filter.actor {
            q = q.filter(
                audit_events::actor_id
                    .eq(actor.clone())
                    .or(audit_events::actor_email.eq(actor.to_lowercase())),
            );
        }
        if let Some(entity) = &filter.entity {
            q = q.filter(audit_events::entity.eq(entity.clone()));
        }
        if let Some(action) = &filter.action {
            q = q.filter(audit_events::action.eq(action.clone()));
        }
        if let Some(from) = filter.from {
            q = q.filter(audit_events::at.ge(from));
        }
        if let Some(to) = filter.to {
            q = q.filter(audit_events::at.le(to));
        }
        q
    };
    let rows: Vec<EventRow> = query()
        .order(audit_events::id.desc())
        .limit(page.per_page)
        .offset(page.offset())
        .select(EventRow::as_select())
        .load(conn)?;
    let total = page.total(rows.len(), || query().count().get_result::<i64>(conn))?;
    Ok(Page::new(
        rows.into_iter().map(Event::from).collect(),
        total,
        page,
    ))
}

/// The fields that differ between two JSON objects, as `{field: {"from": old, "to": new}}`: what an
/// update event records.
pub fn diff(before: &serde_json::Value, after: &serde_json::Value) -> serde_json::Value {
    let mut changes = serde_json::Map::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (key, new) in a {
            let old = b.get(key).unwrap_or(&serde_json::Value::Null);
            if old != new && key != "version" && key != "updated_at" {
                changes.insert(key.clone(), serde_json::json!({ "from": old, "to": new }));
            }
        }
    }
    serde_json::Value::Object(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_changed_fields_only() {
        let before = serde_json::json!({"name": "A", "active": true, "version": 1});
        let after = serde_json::json!({"name": "B", "active": true, "version": 2});
        assert_eq!(
            diff(&before, &after),
            serde_json::json!({"name": {"from": "A", "to": "B"}})
        );
    }
}
