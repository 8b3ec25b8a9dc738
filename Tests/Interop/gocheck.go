// gocheck verifies Probity's output with the Go checksum database's packages, which Probity did not
// write: golang.org/x/mod/sumdb/note (signed notes, verifier keys) and golang.org/x/mod/sumdb/tlog
// (RFC 6962 record and tree proofs). Run by the Swift interop test:
//
//	gocheck VKEY ENTRY_FILE TLOG_PROOF_FILE OLD_CHECKPOINT_FILE CONSISTENCY_FILE
//
// It prints "ok" and exits 0 when every check passes; otherwise it names the failure and exits 1.
package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func decodeHash(s string) tlog.Hash {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != tlog.HashSize {
		fail("not a base64 hash: %q", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

// openCheckpoint verifies a signed checkpoint note and parses its body.
func openCheckpoint(msg []byte, verifiers note.Verifiers) checkpoint {
	n, err := note.Open(msg, verifiers)
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint body too short: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	return checkpoint{origin: lines[0], size: size, root: decodeHash(lines[2])}
}

func read(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return b
}

func main() {
	if len(os.Args) != 6 {
		fail("usage: gocheck VKEY ENTRY_FILE TLOG_PROOF_FILE OLD_CHECKPOINT_FILE CONSISTENCY_FILE")
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	verifiers := note.VerifierList(verifier)
	entry := bytes.TrimSuffix(read(os.Args[2]), []byte("\n"))

	// The .tlog-proof: header, index, proof hashes, blank line, signed checkpoint.
	parts := strings.SplitN(string(read(os.Args[3])), "\n\n", 2)
	if len(parts) != 2 {
		fail("tlog-proof without a blank line")
	}
	head := strings.Split(parts[0], "\n")
	if head[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(head[1], "index ") {
		fail("bad tlog-proof header: %q", parts[0])
	}
	index, err := strconv.ParseInt(strings.TrimPrefix(head[1], "index "), 10, 64)
	if err != nil {
		fail("index: %v", err)
	}
	var record tlog.RecordProof
	for _, line := range head[2:] {
		record = append(record, decodeHash(line))
	}
	latest := openCheckpoint([]byte(parts[1]), verifiers)
	if err := tlog.CheckRecord(record, latest.size, latest.root, index, tlog.RecordHash(entry)); err != nil {
		fail("tlog.CheckRecord: %v", err)
	}

	old := openCheckpoint(read(os.Args[4]), verifiers)
	var tree tlog.TreeProof
	for _, line := range strings.Fields(string(read(os.Args[5]))) {
		tree = append(tree, decodeHash(line))
	}
	if err := tlog.CheckTree(tree, latest.size, latest.root, old.size, old.root); err != nil {
		fail("tlog.CheckTree: %v", err)
	}
	fmt.Println("ok")
}
