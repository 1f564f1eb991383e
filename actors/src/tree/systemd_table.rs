// systemd.service(5), "Table 2. Exit causes and the effect of the Restart=
// settings", written once and `include!`d by the tests that check the kernel
// against it: the restart decision's unit tests (`restart.rs`) and the
// through-actors tests (`actors/tests/policy_table.rs`). Expects `ExitKind`
// and `Restart` in scope where it is included.

/// The table's columns: clean exit, unclean exit code, unclean signal, timeout.
const KINDS: [ExitKind; 4] = [
    ExitKind::Success,
    ExitKind::Failure,
    ExitKind::Abort,
    ExitKind::Timeout,
];

/// The table's rows: whether each `Restart=` value restarts after each of
/// `KINDS`.
const TABLE: [(Restart, [bool; 4]); 6] = [
    (Restart::No, [false, false, false, false]),
    (Restart::Always, [true, true, true, true]),
    (Restart::OnSuccess, [true, false, false, false]),
    (Restart::OnFailure, [false, true, true, true]),
    (Restart::OnAbnormal, [false, false, true, true]),
    (Restart::OnAbort, [false, false, true, false]),
];
