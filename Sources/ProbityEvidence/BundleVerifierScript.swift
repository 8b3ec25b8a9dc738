/// The stand-alone verifier shipped in every bundle as `10_verify_bundle.py`: Python 3's standard library and
/// the `openssl` CLI, so that a court expert can check a bundle without Probity. It performs the same checks
/// as `BundleVerifier`; keep the two in step (the tests run both on the same tampered bundles).
///
/// The script is `Resources/verify_bundle.py`, embedded in the binary at build time (SwiftPM's
/// `embedInCode`), so that the tests can compile and lint it as Python and an installed `probity` needs no
/// resource bundle beside it.
enum BundleVerifierScript {
    static var source: [UInt8] { PackageResources.verify_bundle_py }
}
