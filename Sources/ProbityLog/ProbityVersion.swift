/// The one version of Probity's programs: `probity --version` prints it, and `probity init` and
/// probityd record it in the `log.created` entry (`software`), so an auditor knows what wrote a log.
public enum ProbityVersion {
    public static let current = "0.4.0"
}
