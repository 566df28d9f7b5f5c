
pub mod ado;
pub mod auth;
