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
    /// Print what was created as one JSON object on stdout (no hints on stderr).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> miette::Result<()> {
    let created = socket_init::init(&args.dir, &args.template)?;
    if args.json {
        let summary = serde_json::json!({
            "dir": std::path::absolute(&args.dir).unwrap_or_else(|_| args.dir.clone()),
            "template": args.template,
            "service": created.service,
            "files": created.files,
        });
        println!("{}", serde_json::to_string_pretty(&summary).expect("JSON"));
        return Ok(());
    }
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
