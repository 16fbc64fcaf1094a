//! Other copies of a profile's key on this machine: the `.env`, shell rc,
//! s3cmd or rclone files that hold it beside the profile.
//!
//! `search` finds them (what `aws-rekey find` prints). It takes any set of
//! key ids, files and folders, so a rotation can ask the same question of
//! the usual places (`~/.zshrc`, `~/.s3cfg`...: missing ones come back in
//! `Report::missing`, not as errors) and of a profile's own folders before
//! it retires a key.
//!
//! `managed` edits the copies a profile lists (`aws_rekey_also`, parsed by
//! `listed`) together with the profile; `usual` names the places a rotation
//! looks in before it deletes an old key.

pub mod listed;
pub mod managed;
pub mod search;
pub mod skip;
pub mod token;
pub mod usual;

pub use search::{Hit, Options, Report, Wanted, search};
