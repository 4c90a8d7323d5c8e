//! `cargo run -p chorus-classify --example eval [-- dev|test|all] [--mistakes] [--speed]`: per-theme and
//! per-flag precision and recall on the labelled comments (default: the `test` split).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or("test", |s| s.as_str());
    if !matches!(split, "dev" | "test" | "all") {
        eprintln!("usage: eval [dev|test|all] [--mistakes] [--speed]");
        std::process::exit(2);
    }
    let set = chorus_classify::eval::labelled();
    let c = chorus_classify::Classifier::builtin();
    let r = chorus_classify::eval::evaluate(&c, &set, split);
    println!("{} comments ({split} split)\n", r.comments);
    print!("{}", r.table());
    if args.iter().any(|a| a == "--speed") {
        let started = std::time::Instant::now();
        let mut n = 0usize;
        while started.elapsed() < std::time::Duration::from_secs(2) {
            for l in &set {
                std::hint::black_box(c.classify(&l.comment));
                n += 1;
            }
        }
        let per = started.elapsed().as_secs_f64() / n as f64;
        println!(
            "\nspeed: {:.0} comments/s on one core ({:.1} µs each)",
            1.0 / per,
            per * 1e6
        );
    }
    if args.iter().any(|a| a == "--mistakes") {
        println!();
        for (id, m) in &r.mistakes {
            let text = &set
                .iter()
                .find(|l| l.id == *id)
                .map_or("", |l| l.comment.as_str());
            println!("{id:>4} {m}\n     {text}");
        }
    }
}
