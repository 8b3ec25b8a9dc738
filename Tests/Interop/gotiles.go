// gotiles follows a Probity log through its C2SP tlog-tiles with the Go checksum database's packages,
// which Probity did not write: golang.org/x/mod/sumdb/note opens the checkpoint, and tlog.TileHashReader
// reads the hash tiles (checking each against the checkpoint's root as it goes). Run by the Swift tests:
//
//	gotiles VKEY BASE [OLD_SIZE]
//
// BASE is a URL prefix (http://…/tlog, served by probityd) or a directory (written by `probity export
// tiles`). gotiles checks the tree hash, proves and checks every entry of every entry bundle against the
// checkpoint (tlog.ProveRecord, tlog.CheckRecord on tlog.RecordHash of the bundled bytes), and, given
// OLD_SIZE, proves the tree of that size consistent with it (tlog.ProveTree, tlog.CheckTree). It prints
// "ok <size> <entries checked>" and exits 0, or names the failure and exits 1.
package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	os.Exit(1)
}

var base string

// fetch reads a resource below BASE; a missing one is an error.
func fetch(path string) []byte {
	if strings.HasPrefix(base, "http://") {
		resp, err := http.Get(base + "/" + path)
		if err != nil {
			fail("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			fail("GET %s: %s %s", path, resp.Status, body)
		}
		return body
	}
	body, err := os.ReadFile(base + "/" + path)
	if err != nil {
		fail("read %s: %v", path, err)
	}
	return body
}

// c2spPath is Go's tile path without its height element: C2SP's tile/<L>/<N>[.p/<W>].
func c2spPath(t tlog.Tile) string {
	return strings.Replace(t.Path(), "tile/8/", "tile/", 1)
}

type tileReader struct{}

func (tileReader) Height() int { return 8 }

func (tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		data[i] = fetch(c2spPath(t))
	}
	return data, nil
}

func (tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func main() {
	if len(os.Args) < 3 {
		fail("usage: gotiles VKEY BASE [OLD_SIZE]")
	}
	base = strings.TrimSuffix(os.Args[2], "/")
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	n, err := note.Open(fetch("checkpoint"), note.VerifierList(verifier))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != tlog.HashSize {
		fail("checkpoint root: %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	hashes := tlog.TileHashReader(tree, tileReader{})
	computed, err := tlog.TreeHash(size, hashes)
	if err != nil || computed != root {
		fail("tlog.TreeHash: %v (%v, want %v)", err, computed, root)
	}
	checked := 0
	for start := int64(0); start < size; start += 256 {
		bundlePath := "tile/entries/" + strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: start / 256, W: 256}.Path(), "tile/8/0/")
		width := size - start
		if width < 256 {
			bundlePath = "tile/entries/" + strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: start / 256, W: int(width)}.Path(), "tile/8/0/")
		} else {
			width = 256
		}
		bundle := fetch(bundlePath)
		for i := int64(0); i < width; i++ {
			if len(bundle) < 2 {
				fail("%s: ends before entry %d", bundlePath, start+i)
			}
			length := int(bundle[0])<<8 | int(bundle[1])
			if len(bundle) < 2+length {
				fail("%s: entry %d is cut short", bundlePath, start+i)
			}
			entry := bundle[2 : 2+length]
			bundle = bundle[2+length:]
			proof, err := tlog.ProveRecord(size, start+i, hashes)
			if err != nil {
				fail("tlog.ProveRecord(%d): %v", start+i, err)
			}
			if err := tlog.CheckRecord(proof, size, root, start+i, tlog.RecordHash(entry)); err != nil {
				fail("tlog.CheckRecord(%d): %v", start+i, err)
			}
			checked++
		}
		if len(bundle) != 0 {
			fail("%s: %d bytes after its %d entries", bundlePath, len(bundle), width)
		}
	}
	if len(os.Args) > 3 {
		old, err := strconv.ParseInt(os.Args[3], 10, 64)
		if err != nil {
			fail("OLD_SIZE: %v", err)
		}
		oldHash, err := tlog.TreeHash(old, hashes)
		if err != nil {
			fail("tlog.TreeHash(%d): %v", old, err)
		}
		proof, err := tlog.ProveTree(size, old, hashes)
		if err != nil {
			fail("tlog.ProveTree: %v", err)
		}
		if err := tlog.CheckTree(proof, size, root, old, oldHash); err != nil {
			fail("tlog.CheckTree: %v", err)
		}
	}
	fmt.Printf("ok %d %d\n", size, checked)
}
