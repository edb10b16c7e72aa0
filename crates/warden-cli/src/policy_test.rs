//! `warden test FILE…`: policy tests kept next to a configuration and run in CI. Each case is
//! one request judged by the real engine and renderer, with the identity the case gives
//! standing in for the authenticator, so no keys, store or network are needed.

mod judge;
mod report;
mod spec;

use std::path::Path;
use std::process::ExitCode;

use warden_core::Engine;

use crate::cli::TestArgs;
use spec::{Case, TestFile};

/// How the cases went, across every file.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    unjudged: usize,
}

/// Runs every file's cases: exit 0 when all pass, 1 when one fails, 2 when a file (or its
/// configuration) is malformed or a case cannot be judged as written.
pub fn run(args: &TestArgs) -> ExitCode {
    let mut files = Vec::new();
    let mut malformed = false;
    for path in &args.files {
        match spec::load(path) {
            Ok(file) => files.push(file),
            Err(problems) => {
                malformed = true;
                problems.iter().for_each(|p| eprintln!("{p}"));
            }
        }
    }
    if malformed {
        return ExitCode::from(2);
    }
    let mut tally = Tally::default();
    for file in files {
        run_file(file, args.verbose, &mut tally);
    }
    let mut summary = format!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.unjudged > 0 {
        summary.push_str(&format!(", {} not judged", tally.unjudged));
    }
    println!("{summary}");
    match tally {
        Tally { unjudged: 1.., .. } => ExitCode::from(2),
        Tally { failed: 1.., .. } => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn run_file(file: TestFile, verbose: bool, tally: &mut Tally) {
    let now = file.now.unwrap_or_else(warden_server::clock::now_unix);
    let engine = Engine::new(file.config);
    for case in &file.cases {
        run_case(&engine, &file.path, case, now, verbose, tally);
    }
}

fn run_case(engine: &Engine, path: &Path, case: &Case, now: u64, verbose: bool, tally: &mut Tally) {
    let (file, line, name) = (path.display(), case.line, &case.name);
    match judge::answer(engine, case, now) {
        Err(why) => {
            tally.unjudged += 1;
            eprintln!("{file}:{line}:{}: case `{name}`: {why}", case.column);
        }
        Ok(answer) => match report::mismatch(engine, case, &answer, now) {
            Some(why) => {
                tally.failed += 1;
                println!("FAIL {file}:{line} {name}: {why}");
            }
            None => {
                tally.passed += 1;
                if verbose {
                    println!("ok   {file}:{line} {name}");
                }
            }
        },
    }
}
