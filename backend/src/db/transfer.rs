//! `baton migrate-data`: copying an installation's SQLite database into PostgreSQL.
//!
//! - **One snapshot:** the source is read inside one read transaction, so the copy is
//!   consistent even if Baton is still running (what it writes afterwards is not in
//!   the copy: stop it before the last run).
//! - **All or nothing:** the target is written in one transaction; a failure leaves it
//!   as it was.
//! - **Idempotent:** rows are matched by primary key and overwritten, so running it
//!   again copies what changed since, and a copy interrupted half-way can be redone.
//! - **Mirrored:** the source carries an installation id (a `settings` row, written by
//!   the first copy), which the copy takes along. When the target carries the same id,
//!   rows deleted in the source since (sign-outs, expired sessions, deleted labels) are
//!   deleted in the target too: children first, and before the upserts, so a name
//!   freed and taken again does not collide. A target with another installation's id
//!   is refused; one without an id (a new database) only receives rows.
//! - **Verified:** before committing, every table must hold exactly as many rows in the
//!   target as in the source, or nothing is written.
//!
//! The tables and columns come from the target's schema (which `migrations/postgres`
//! keeps equal to SQLite's); SQLite's full-text index is not copied, as PostgreSQL
//! indexes text itself.

use futures_util::TryStreamExt;
use sqlx::postgres::Postgres;
use sqlx::query_builder::Separated;
use sqlx::sqlite::SqliteRow;
use sqlx::{PgPool, QueryBuilder, Row, SqlitePool};

use crate::{Error, Result};

/// PostgreSQL takes at most 65,535 bound values per statement.
const MAX_BINDS: usize = 60_000;
const MAX_ROWS: usize = 1_000;

/// The `settings` key of the id that tells installations apart.
pub const INSTALLATION: &str = "installation";
/// The `settings` key that says Baton has served from this PostgreSQL database.
const SERVING: &str = "serving";

/// At `serve`'s start on PostgreSQL: the first time, the database takes an
/// installation id of its own, replacing the one a copy brought along. From then on
/// it is live, and running `migrate-data` again from the old SQLite file is refused
/// ("another installation's") instead of mirroring the old file over it.
pub async fn claim_installation(store: &dyn store::Store) -> Result<bool> {
    let mut tx = store.write().await?;
    if tx.setting_get(SERVING).await?.is_some() {
        return Ok(false);
    }
    let id = serde_json::Value::String(crate::ids::new_token()?[..32].to_owned()).to_string();
    tx.setting_put(INSTALLATION, &id).await?;
    tx.setting_put(SERVING, "true").await?;
    tx.commit().await?;
    Ok(true)
}

/// How many rows one table holds after the copy (the same on both sides), and how
/// many the target lost because the source no longer has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: String,
    pub rows: i64,
    pub removed: u64,
}

/// How a column's value travels: read from SQLite as one of these, bound as it is,
/// and converted by PostgreSQL where the types differ.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Integer,
    Flag,
    Text,
    /// Text in SQLite, `jsonb` here: cast on the way in (which also validates it).
    Json,
    Bytes,
    /// The session store's expiry: text in SQLite (its store writes a timestamp as text
    /// into a column declared integer), `timestamptz` here.
    Timestamp,
}

#[derive(Debug)]
struct Table {
    name: String,
    columns: Vec<(String, Kind)>,
    key: Vec<String>,
    /// The table has an identity `id` whose sequence must start past the copied ids.
    identity: bool,
}

enum Value {
    Integer(Option<i64>),
    Flag(Option<bool>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

/// Copies every row of `from` into `to` (both already migrated) and returns the row
/// count of each table, in the order they were copied.
pub async fn sqlite_to_postgres(from: &SqlitePool, to: &PgPool) -> Result<Vec<Copied>> {
    let tables = target_tables(to).await?;
    // Before the snapshot, so the copy carries it. `or ignore`: an id, once given,
    // stays. A running Baton may be writing: the busy timeout waits for it.
    sqlx::query(
        "insert or ignore into settings (key, value)
         values (?, json_quote(lower(hex(randomblob(16)))))",
    )
    .bind(INSTALLATION)
    .execute(from)
    .await?;
    // A deferred transaction: its first read fixes the snapshot every later one sees.
    let mut source = from.begin().await?;
    let mut target = to.begin().await?;
    let ours: String = sqlx::query_scalar("select value ->> '$' from settings where key = ?")
        .bind(INSTALLATION)
        .fetch_one(&mut *source)
        .await?;
    let theirs: Option<String> =
        sqlx::query_scalar("select value #>> '{}' from settings where key = $1")
            .bind(INSTALLATION)
            .fetch_optional(&mut *target)
            .await?;
    let mirror = match theirs {
        None => false,
        Some(theirs) if theirs == ours => true,
        Some(_) => {
            return Err(Error::Conflict(
                "the target is another installation's database (its installation id in \
                 settings is not this one's), so nothing was written. Copy into an empty \
                 database."
                    .into(),
            ));
        }
    };
    let mut removed = vec![0; tables.len()];
    if mirror {
        // Children first, so no row is left pointing at a deleted parent.
        for (i, table) in tables.iter().enumerate().rev() {
            removed[i] = remove_missing(&mut source, &mut target, table).await?;
        }
    }
    let mut copied = Vec::with_capacity(tables.len());
    for (table, removed) in tables.iter().zip(removed) {
        let columns = table
            .columns
            .iter()
            .map(|(c, _)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let select = format!("select {columns} from \"{}\"", table.name);
        let per_batch = (MAX_BINDS / table.columns.len().max(1)).clamp(1, MAX_ROWS);
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_batch);
        let mut rows = sqlx::query(&select).fetch(&mut *source);
        while let Some(row) = rows.try_next().await? {
            // A value of another type than the schema says: a damaged or hand-edited file.
            let values = read_row(table, &row).map_err(|e| {
                Error::Invalid(format!("table {}: a row cannot be copied: {e}", table.name))
            })?;
            batch.push(values);
            if batch.len() == per_batch {
                write_batch(&mut target, table, &columns, std::mem::take(&mut batch)).await?;
            }
        }
        drop(rows);
        if !batch.is_empty() {
            write_batch(&mut target, table, &columns, batch).await?;
        }

        let count = format!("select count(*) from \"{}\"", table.name);
        let in_source: i64 = sqlx::query_scalar(&count).fetch_one(&mut *source).await?;
        let in_target: i64 = sqlx::query_scalar(&count).fetch_one(&mut *target).await?;
        if in_target != in_source {
            return Err(Error::Conflict(format!(
                "table {}: the target holds {in_target} rows after the copy, the source \
                 {in_source}; the target has rows this source does not (another \
                 installation's), so nothing was written. Copy into an empty database.",
                table.name
            )));
        }
        if table.identity {
            // The next row Baton inserts must get an id past the copied ones.
            sqlx::query(&format!(
                "select setval(pg_get_serial_sequence('\"{0}\"', 'id'),
                               coalesce(max(id), 1), max(id) is not null)
                 from \"{0}\"",
                table.name
            ))
            .execute(&mut *target)
            .await?;
        }
        copied.push(Copied {
            table: table.name.clone(),
            rows: in_target,
            removed,
        });
    }
    target.commit().await?;
    source.rollback().await?;
    Ok(copied)
}

/// Deletes the target's rows of `table` whose key the source no longer holds; how many.
/// The source's keys go into a temporary table, so the comparison is one statement
/// whatever the table's size or key.
async fn remove_missing(
    source: &mut sqlx::SqliteConnection,
    target: &mut sqlx::PgConnection,
    table: &Table,
) -> Result<u64> {
    let key: Vec<(String, Kind)> = table
        .columns
        .iter()
        .filter(|(c, _)| table.key.contains(c))
        .cloned()
        .collect();
    let columns = key
        .iter()
        .map(|(c, _)| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let kept = format!("\"keep_{}\"", table.name);
    sqlx::query(&format!(
        "create temporary table {kept} on commit drop as
         select {columns} from \"{}\" with no data",
        table.name
    ))
    .execute(&mut *target)
    .await?;
    let keys = Table {
        name: String::new(),
        columns: key.clone(),
        key: Vec::new(),
        identity: false,
    };
    let select = format!("select {columns} from \"{}\"", table.name);
    let mut rows = sqlx::query(&select).fetch(&mut *source);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(MAX_ROWS);
    while let Some(row) = rows.try_next().await? {
        batch.push(read_row(&keys, &row)?);
        if batch.len() == MAX_ROWS {
            insert_keys(target, &kept, &columns, &keys, std::mem::take(&mut batch)).await?;
        }
    }
    drop(rows);
    if !batch.is_empty() {
        insert_keys(target, &kept, &columns, &keys, batch).await?;
    }
    let matches = key
        .iter()
        .map(|(c, _)| format!("k.\"{c}\" = t.\"{c}\""))
        .collect::<Vec<_>>()
        .join(" and ");
    let removed = sqlx::query(&format!(
        "delete from \"{}\" t where not exists (select 1 from {kept} k where {matches})",
        table.name
    ))
    .execute(&mut *target)
    .await?
    .rows_affected();
    Ok(removed)
}

async fn insert_keys(
    target: &mut sqlx::PgConnection,
    kept: &str,
    columns: &str,
    keys: &Table,
    batch: Vec<Vec<Value>>,
) -> Result<()> {
    let mut insert = QueryBuilder::<Postgres>::new(format!("insert into {kept} ({columns}) "));
    insert.push_values(batch, |mut b, row| {
        for ((_, kind), value) in keys.columns.iter().zip(row) {
            bind(&mut b, *kind, value);
        }
    });
    insert.build().execute(target).await?;
    Ok(())
}

fn read_row(table: &Table, row: &SqliteRow) -> std::result::Result<Vec<Value>, sqlx::Error> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| {
            Ok(match kind {
                Kind::Integer => Value::Integer(row.try_get(i)?),
                Kind::Flag => Value::Flag(row.try_get(i)?),
                Kind::Text | Kind::Json | Kind::Timestamp => Value::Text(row.try_get(i)?),
                Kind::Bytes => Value::Bytes(row.try_get(i)?),
            })
        })
        .collect()
}

async fn write_batch(
    target: &mut sqlx::PgConnection,
    table: &Table,
    columns: &str,
    batch: Vec<Vec<Value>>,
) -> Result<()> {
    let mut insert =
        QueryBuilder::<Postgres>::new(format!("insert into \"{}\" ({columns}) ", table.name));
    insert.push_values(batch, |mut b, row| {
        for ((_, kind), value) in table.columns.iter().zip(row) {
            bind(&mut b, *kind, value);
        }
    });
    let key = table
        .key
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let rest: Vec<String> = table
        .columns
        .iter()
        .filter(|(c, _)| !table.key.contains(c))
        .map(|(c, _)| format!("\"{c}\" = excluded.\"{c}\""))
        .collect();
    if rest.is_empty() {
        insert.push(format!(" on conflict ({key}) do nothing"));
    } else {
        insert.push(format!(
            " on conflict ({key}) do update set {}",
            rest.join(", ")
        ));
    }
    insert.build().execute(target).await?;
    Ok(())
}

fn bind(b: &mut Separated<'_, '_, Postgres, &'static str>, kind: Kind, value: Value) {
    match (kind, value) {
        (Kind::Json, Value::Text(v)) => {
            b.push_bind(v);
            b.push_unseparated("::jsonb");
        }
        (Kind::Timestamp, Value::Text(v)) => {
            b.push_bind(v);
            b.push_unseparated("::timestamptz");
        }
        (_, Value::Integer(v)) => {
            b.push_bind(v);
        }
        (_, Value::Flag(v)) => {
            b.push_bind(v);
        }
        (_, Value::Text(v)) => {
            b.push_bind(v);
        }
        (_, Value::Bytes(v)) => {
            b.push_bind(v);
        }
    }
}

/// The target's tables, parents before the tables that reference them.
async fn target_tables(to: &PgPool) -> Result<Vec<Table>> {
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "select c.table_name::text, c.column_name::text, c.data_type::text,
                c.is_identity::text
         from information_schema.columns c
         join information_schema.tables t
           on t.table_schema = c.table_schema and t.table_name = c.table_name
         where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
           and c.table_name != '_sqlx_migrations'
           -- What serving processes keep for each other (realtime events, job
           -- leases, sign-in limits, replicas and their sockets) is theirs, not
           -- the installation's data; files' bytes come from the folder
           -- (`files::import`).
           and c.table_name not in ('events', 'leases', 'sign_in_failures',
                                    'sign_in_refusals', 'replicas', 'replica_sockets',
                                    'file_blobs')
         order by c.table_name, c.ordinal_position",
    )
    .fetch_all(to)
    .await?;
    let keys: Vec<(String, String)> = sqlx::query_as(
        "select cl.relname::text, a.attname::text
         from pg_index i
         join pg_class cl on cl.oid = i.indrelid
         join pg_namespace n on n.oid = cl.relnamespace
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
         where i.indisprimary and n.nspname = current_schema()",
    )
    .fetch_all(to)
    .await?;
    let references: Vec<(String, String)> = sqlx::query_as(
        "select child.relname::text, parent.relname::text
         from pg_constraint c
         join pg_class child on child.oid = c.conrelid
         join pg_class parent on parent.oid = c.confrelid
         join pg_namespace n on n.oid = child.relnamespace
         where c.contype = 'f' and n.nspname = current_schema()",
    )
    .fetch_all(to)
    .await?;

    let mut tables: Vec<Table> = Vec::new();
    for (table, column, data_type, identity) in columns {
        let kind = match data_type.as_str() {
            "bigint" => Kind::Integer,
            "boolean" => Kind::Flag,
            "text" => Kind::Text,
            "jsonb" => Kind::Json,
            "bytea" => Kind::Bytes,
            "timestamp with time zone" => Kind::Timestamp,
            other => {
                return Err(Error::Internal(format!(
                    "{table}.{column}: no way to copy a column of type {other}"
                )));
            }
        };
        if tables.last().is_none_or(|t| t.name != table) {
            tables.push(Table {
                name: table.clone(),
                columns: Vec::new(),
                key: Vec::new(),
                identity: false,
            });
        }
        if let Some(t) = tables.last_mut() {
            t.identity |= column == "id" && identity == "YES";
            t.columns.push((column, kind));
        }
    }
    for (table, column) in keys {
        if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
            t.key.push(column);
        }
    }
    if let Some(t) = tables.iter().find(|t| t.key.is_empty()) {
        return Err(Error::Internal(format!(
            "table {} has no primary key to match rows by",
            t.name
        )));
    }
    parents_first(tables, &references)
}

/// Orders tables so that every table comes after the tables it references.
fn parents_first(mut rest: Vec<Table>, references: &[(String, String)]) -> Result<Vec<Table>> {
    let mut ordered: Vec<Table> = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let ready = rest.iter().position(|t| {
            references.iter().all(|(child, parent)| {
                child != &t.name || parent == child || ordered.iter().any(|o| &o.name == parent)
            })
        });
        let Some(i) = ready else {
            return Err(Error::Internal(
                "the tables reference each other in a cycle".into(),
            ));
        };
        ordered.push(rest.remove(i));
    }
    Ok(ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> Table {
        Table {
            name: name.into(),
            columns: vec![("id".into(), Kind::Integer)],
            key: vec!["id".into()],
            identity: true,
        }
    }

    #[test]
    fn parents_come_before_the_tables_that_reference_them() {
        let refs = [
            ("messages".to_owned(), "tickets".to_owned()),
            ("tickets".to_owned(), "connections".to_owned()),
            ("messages".to_owned(), "users".to_owned()),
        ];
        let order = parents_first(
            vec![
                table("messages"),
                table("tickets"),
                table("users"),
                table("connections"),
            ],
            &refs,
        )
        .unwrap();
        let names: Vec<&str> = order.iter().map(|t| t.name.as_str()).collect();
        let at = |n: &str| names.iter().position(|x| *x == n).unwrap();
        assert!(at("connections") < at("tickets"));
        assert!(at("tickets") < at("messages"));
        assert!(at("users") < at("messages"));
    }

    #[test]
    fn a_cycle_is_an_error_not_a_hang() {
        let refs = [
            ("a".to_owned(), "b".to_owned()),
            ("b".to_owned(), "a".to_owned()),
        ];
        assert!(parents_first(vec![table("a"), table("b")], &refs).is_err());
    }
}
