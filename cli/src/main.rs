//! `messenger-handover`: the command. Everything is in the library's `run`,
//! which the Python and Node packages call too.

fn main() {
    std::process::exit(messenger_handover_cli::run(std::env::args_os()));
}
