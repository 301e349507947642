use store::leases::Leases;

use crate::SqliteTx;

#[async_trait::async_trait]
impl<C: crate::Conn> Leases for SqliteTx<C> {
    async fn lease_take(
        &mut self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> store::Result<bool> {
        let taken = sqlx::query_scalar!(
            r#"insert into leases (name, holder, until) values (?1, ?2, ?3)
               on conflict (name) do update set holder = excluded.holder, until = excluded.until
               where leases.until <= ?4 or leases.holder = excluded.holder
               returning name as "name!""#,
            name,
            holder,
            until,
            now
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(taken.is_some())
    }

    async fn lease_release(&mut self, name: &str, holder: &str) -> store::Result<()> {
        sqlx::query!(
            "delete from leases where name = ?1 and holder = ?2",
            name,
            holder
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
