//! Leases: a background job that must run once across every process on a database
//! (the abandoned-ticket sweep, session clean-up, the Botpress sync) runs where it
//! holds the job's lease. A lease ends at a time, so when its holder dies another
//! process takes the job over once that time has passed.

#[async_trait::async_trait]
pub trait Leases {
    /// Takes the lease `name` for `holder` until `until`, if nobody holds it, its time
    /// ran out by `now`, or `holder` already has it (then it is renewed). Whether
    /// `holder` holds it now.
    async fn lease_take(
        &mut self,
        name: &str,
        holder: &str,
        now: i64,
        until: i64,
    ) -> crate::Result<bool>;

    /// Gives the lease up (a process stopping), if `holder` has it.
    async fn lease_release(&mut self, name: &str, holder: &str) -> crate::Result<()>;
}
