//! aws-rekey: rotate your own AWS IAM access key safely, in one step.
//!
//! The binary (`src/main.rs`) is a thin shell over these modules; they are a
//! library so the file editors can also be fuzzed (`fuzz/`) and benchmarked.
//! The library's API is not stable: the command line is the interface.

pub mod atomic;
pub mod aws;
pub mod cli;
pub mod commands;
pub mod copies;
pub mod error;
pub mod exit;
pub mod hook;
pub mod ini;
pub mod install;
pub mod mfa;
pub mod network;
pub mod preamble;
pub mod profile;
pub mod report;
pub mod rotation;
pub mod secret;
pub mod state;
pub mod store;
pub mod ui;
