//! Pages only admins may open (the server functions behind them check too).

pub mod agents;
pub mod audit;
pub mod connections;
pub mod labels;
pub mod replies;
pub mod routing;
