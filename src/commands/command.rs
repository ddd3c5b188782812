//! The COMMAND container: COMMAND, COUNT, INFO, LIST, GETKEYS, GETKEYSANDFLAGS, DOCS, all read from the
//! command table.

use super::table::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
