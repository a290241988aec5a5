fn main() {
    eprintln!("ravf-sim: not yet");
    std::process::exit(2);
}
