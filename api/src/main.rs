/// mimalloc instead of glibc's malloc: a request allocates and frees many small blocks (rows,
/// JSON, headers), and glibc's allocator was a tenth of the CPU of a read request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main()
}
