//! `aws-rekey completions SHELL` and the manual page, both generated from
//! the one clap definition in `cli`.

use crate::cli::Cli;
use crate::error::CommandError;
use crate::exit::Exit;
use clap::CommandFactory;

pub fn script(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "aws-rekey", &mut out);
    String::from_utf8(out).expect("completion scripts are UTF-8")
}

pub fn print(shell: clap_complete::Shell) -> Result<Exit, CommandError> {
    crate::ui::print_stdout(script(shell).trim_end());
    Ok(Exit::Success)
}

pub fn man() -> Result<Exit, CommandError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(anyhow::Error::from)?;
    crate::ui::print_stdout(String::from_utf8_lossy(&out).trim_end());
    Ok(Exit::Success)
}
