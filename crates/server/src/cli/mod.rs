//! The subcommands of the `tapir` binary, one module per group.

pub mod adql;
pub mod identity;
pub mod serve;
