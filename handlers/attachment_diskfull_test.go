package handlers

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"dialoog/blob"
	"dialoog/db/dbtest"
	"dialoog/messaging"
	"dialoog/static"
)

// smallFilesystem mounts a tmpfs of the given size (e.g. "1M") on a new
// directory for the test and returns the directory. It skips the test
// where it cannot: mounting needs root and a kernel that lets this process
// mount.
func smallFilesystem(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a small filesystem for the disk-full test needs root (mount -t tmpfs); running as uid", os.Geteuid())
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a %s tmpfs for the disk-full test: %v: %s", size, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// regularFiles lists the files under dir.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestUploadDiskFull: on a 1 MiB filesystem a larger upload is refused
// with 507 and a message that says what happened, in the user's language,
// and leaves no temporary file; the space it took is free again. /readyz
// fails while nothing can be written.
func TestUploadDiskFull(t *testing.T) {
	dir := smallFilesystem(t, "1M")
	ra := newRealAppOn(t, dbtest.MustOpenSQLite(t), func(d *Deps) { d.Files = d.Messages.(*messaging.Service).Files })
	ra.msg.Files.Store = &blob.Dir{Root: dir}
	base := ra.serve(t)
	hr := ra.person(t, "hr@osaw.nl", true, "Hanna", "de", "Vries", "nl")
	kim := ra.person(t, "kim@example.nl", false, "Kim", "", "Smit", "en")

	resp, chip := postFile(t, base, hr, "scan.pdf", pdfStream(2<<20, 3))
	wantStatus(t, resp, http.StatusInsufficientStorage)
	wantContains(t, chip, `role="alert"`, "scan.pdf", "Er is nu geen opslagruimte vrij voor bijlagen, dus dit bestand is niet opgeslagen.")
	if files := regularFiles(t, dir); len(files) != 0 {
		t.Fatalf("files left after the failed upload: %v", files)
	}
	resp, chip = postFile(t, base, kim, "scan.pdf", pdfStream(2<<20, 3))
	wantStatus(t, resp, http.StatusInsufficientStorage)
	wantContains(t, chip, "There is no storage space left for attachments right now")
	// The space of the failed write is free again: a small file fits.
	resp, _ = postFile(t, base, hr, "klein.pdf", pdfStream(100<<10, 4))
	wantStatus(t, resp, http.StatusOK)
	if files := regularFiles(t, dir); len(files) != 1 {
		t.Fatalf("files after the small upload: %v", files)
	}

	b := ra.browser(t)
	resp, _ = b.get("/readyz")
	wantStatus(t, resp, http.StatusOK)
	// Fill the filesystem: now not even the probe fits.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	resp, _ = b.get("/readyz")
	wantStatus(t, resp, http.StatusServiceUnavailable)
	os.Remove(filler)
	resp, _ = b.get("/readyz")
	wantStatus(t, resp, http.StatusOK)
	if files := regularFiles(t, dir); len(files) != 1 {
		t.Fatalf("files after the probes: %v", files)
	}
}

// TestAppJSShowsEveryUploadChip: app.js puts the server's answer to an
// upload in the file's place when it is a chip, and otherwise says only
// "Uploaden is mislukt. Probeer het opnieuw.". Every status the upload
// answers with a chip (200 stored, 422 refused: TestUpload; 507 no space:
// TestUploadDiskFull) must be one it takes the chip of, so that a full
// store reads as such beside the file with script too, not as a failure
// to try again.
func TestAppJSShowsEveryUploadChip(t *testing.T) {
	js, err := static.FS.ReadFile("js/app.js")
	if err != nil {
		t.Fatal(err)
	}
	load := regexp.MustCompile(`var chip = \(([^)]*)\) \? parseChip\(xhr\.responseText\)`).FindSubmatch(js)
	if load == nil {
		t.Fatal("app.js: no chip condition in the upload's load handler")
	}
	taken := map[int]bool{}
	for _, m := range regexp.MustCompile(`xhr\.status === (\d+)`).FindAllSubmatch(load[1], -1) {
		n, _ := strconv.Atoi(string(m[1]))
		taken[n] = true
	}
	for _, status := range []int{http.StatusOK, http.StatusUnprocessableEntity, http.StatusInsufficientStorage} {
		if !taken[status] {
			t.Errorf("app.js shows the generic failure for a %d, which carries a chip with its reason (condition %q)", status, load[1])
		}
	}
}
