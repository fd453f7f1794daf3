//! `socket init`.

use std::path::{Path, PathBuf};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Folder to create the project in (created if missing). Its name becomes the service name.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Template to start from: `echo`, or `chat` (rooms and broadcast on the connection registry).
    #[arg(long, short = 't', default_value = "echo")]
    template: String,
}

pub fn run(args: Args) -> miette::Result<()> {
    socket_init::init(&args.dir, &args.template)?;
    let shown = args.dir.display();
    eprintln!(
        "  ✓ Created a socket project in {shown} (template {})",
        args.template
    );
    if args.dir != Path::new(".") {
        eprintln!("\n  cd {shown}");
    }
    eprintln!("  socket dev       # run it locally: ws://127.0.0.1:3111/dev");
    eprintln!("  socket deploy    # after putting AWS credentials in .env (see .env.example)");
    Ok(())
}
