fn main() {
    println!("gsprov: being built");
}
