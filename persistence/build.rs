// `embed_migrations!` reads the migration folders at compile time; without this a new
// migration would not be embedded until something else triggered a rebuild.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
