use store::replicas::{Blobs, Fleet, SignIns, Sockets};

use crate::PgTx;

#[async_trait::async_trait]
impl<C: crate::Conn> SignIns for PgTx<C> {
    async fn sign_in_failures(
        &mut self,
        keys: &[Vec<u8>],
        since: i64,
    ) -> store::Result<Vec<(Vec<u8>, i64)>> {
        let rows = sqlx::query!(
            "select key, at from sign_in_failures where key = any($1) and at >= $2 order by at",
            keys,
            since
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows.into_iter().map(|r| (r.key, r.at)).collect())
    }

    async fn sign_in_fail(&mut self, keys: &[Vec<u8>], at: i64) -> store::Result<()> {
        sqlx::query!(
            "insert into sign_in_failures (key, at) select unnest($1::bytea[]), $2",
            keys,
            at
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn sign_in_forget(&mut self, key: &[u8], at: Option<i64>) -> store::Result<()> {
        // One row of the time, if several share it (ctid picks one).
        sqlx::query!(
            "delete from sign_in_failures
             where key = $1 and ($2::bigint is null
                                 or ctid = (select ctid from sign_in_failures
                                            where key = $1 and at = $2 limit 1))",
            key,
            at
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn sign_in_refused(&mut self, key: &[u8], at: i64, since: i64) -> store::Result<bool> {
        let noted = sqlx::query_scalar!(
            r#"insert into sign_in_refusals (key, at) values ($1, $2)
               on conflict (key) do update set at = excluded.at
               where sign_in_refusals.at < $3
               returning at as "at!""#,
            key,
            at,
            since
        )
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(noted.is_some())
    }

    async fn sign_in_prune(&mut self, before: i64) -> store::Result<()> {
        sqlx::query!("delete from sign_in_failures where at < $1", before)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query!("delete from sign_in_refusals where at < $1", before)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl<C: crate::Conn> Fleet for PgTx<C> {
    async fn replica_alive(&mut self, replica: &str, until: i64) -> store::Result<()> {
        sqlx::query!(
            "insert into replicas (id, until) values ($1, $2)
             on conflict (id) do update set until = excluded.until",
            replica,
            until
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn replicas_expire(&mut self, now: i64) -> store::Result<Vec<i64>> {
        let users = sqlx::query_scalar!(
            "select distinct s.user_id from replica_sockets s join replicas r on r.id = s.replica
             where r.until <= $1 and s.sockets > 0 order by s.user_id",
            now
        )
        .fetch_all(&mut *self.tx)
        .await?;
        sqlx::query!("delete from replicas where until <= $1", now)
            .execute(&mut *self.tx)
            .await?;
        Ok(users)
    }

    async fn replica_gone(&mut self, replica: &str) -> store::Result<()> {
        sqlx::query!("delete from replicas where id = $1", replica)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn replicas_alive(&mut self, now: i64) -> store::Result<i64> {
        sqlx::query_scalar!(
            r#"select count(*) as "n!" from replicas where until > $1"#,
            now
        )
        .fetch_one(&mut *self.tx)
        .await
    }

    async fn sockets_set(
        &mut self,
        replica: &str,
        user: i64,
        sockets: Sockets,
    ) -> store::Result<()> {
        // None is kept as a row of zeros: the account had tabs here and closed them
        // all, which makes it offline on every replica (not "seen a minute ago").
        sqlx::query!(
            "insert into replica_sockets (replica, user_id, sockets, active)
             values ($1, $2, $3, $4)
             on conflict (replica, user_id)
             do update set sockets = excluded.sockets, active = excluded.active",
            replica,
            user,
            i32::try_from(sockets.sockets).unwrap_or(i32::MAX),
            i32::try_from(sockets.active).unwrap_or(i32::MAX)
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn sockets_elsewhere(
        &mut self,
        user: i64,
        except: &str,
        now: i64,
    ) -> store::Result<Sockets> {
        let row = sqlx::query!(
            r#"select coalesce(sum(s.sockets), 0)::bigint as "sockets!",
                      coalesce(sum(s.active), 0)::bigint as "active!"
               from replica_sockets s join replicas r on r.id = s.replica
               where s.user_id = $1 and s.replica != $2 and r.until > $3"#,
            user,
            except,
            now
        )
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(Sockets {
            sockets: row.sockets,
            active: row.active,
        })
    }

    async fn sockets_all(&mut self, now: i64, except: &str) -> store::Result<Vec<(i64, Sockets)>> {
        let rows = sqlx::query!(
            r#"select s.user_id, sum(s.sockets)::bigint as "sockets!",
                      sum(s.active)::bigint as "active!"
               from replica_sockets s join replicas r on r.id = s.replica
               where r.until > $1 and s.replica != $2
               group by s.user_id order by s.user_id"#,
            now,
            except
        )
        .fetch_all(&mut *self.tx)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                (
                    r.user_id,
                    Sockets {
                        sockets: r.sockets,
                        active: r.active,
                    },
                )
            })
            .collect())
    }
}

#[async_trait::async_trait]
impl<C: crate::Conn> Blobs for PgTx<C> {
    async fn blob_put(&mut self, key: &str, bytes: &[u8]) -> store::Result<()> {
        sqlx::query!(
            "insert into file_blobs (key, bytes) values ($1, $2) on conflict (key) do nothing",
            key,
            bytes
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn blob_get(&mut self, key: &str) -> store::Result<Option<Vec<u8>>> {
        sqlx::query_scalar!("select bytes from file_blobs where key = $1", key)
            .fetch_optional(&mut *self.tx)
            .await
    }

    async fn blob_delete(&mut self, key: &str) -> store::Result<()> {
        sqlx::query!("delete from file_blobs where key = $1", key)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn blobs_missing(&mut self) -> store::Result<Vec<String>> {
        sqlx::query_scalar!(
            r#"select key as "key!" from attachments
               where not exists (select 1 from file_blobs b where b.key = attachments.key)
               union
               select key as "key!" from media
               where state = 'stored' and key is not null
                 and not exists (select 1 from file_blobs b where b.key = media.key)
               order by 1"#
        )
        .fetch_all(&mut *self.tx)
        .await
    }
}
