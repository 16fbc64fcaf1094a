//! Other copies of a profile's key on this machine: the `.env`, shell rc,
//! s3cmd or rclone files that hold it beside the profile.
//!
//! `search` finds them (what `aws-rekey find` prints). It takes any set of
//! key ids, files and folders, so a rotation can ask the same question of
//! the usual places (`~/.zshrc`, `~/.s3cfg`...: missing ones come back in
//! `Report::missing`, not as errors) and of a profile's own folders before
//! it retires a key.

pub mod search;
pub mod skip;
pub mod token;

pub use search::{Hit, Options, Report, Wanted, search};
