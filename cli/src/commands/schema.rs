//! `socket schema`: the JSON Schema of `serverless.yml`, for editors and CI checks.

#[derive(clap::Args, Clone, Debug)]
pub struct Args {}

pub fn run(_: Args) -> miette::Result<()> {
    print!("{}", socket_manifest::SCHEMA);
    Ok(())
}
