package dbtest

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// GrowthChunk is how many rows one statement of an operation may handle
// for CheckGrowth: an operation may run one more statement per
// GrowthChunk rows of the larger volume (a page of an export, a chunk of
// a deletion).
const GrowthChunk = 500

// literals is what differs between two runs of the same statement.
var literals = regexp.MustCompile(`'[^']*'|X'[0-9A-Fa-f]*'|\b\d+\b`)

// CheckGrowth runs what at a small volume and at a large one (build sets
// up the volume n and returns the operation, run with a context of s) and
// fails when the large run runs more statements than the small one beyond
// one per GrowthChunk rows of the large volume: a statement per message,
// recipient, member or conversation is a round trip each on PostgreSQL,
// while the operation holds its locks. The failure lists the statements
// that ran more than once.
func (s *Statements) CheckGrowth(t *testing.T, what string, small, large int, build func(t *testing.T, n int) func(ctx context.Context) error) {
	t.Helper()
	s.checkGrowth(t, what, "", small, large, build)
}

// KnownGrowth is CheckGrowth for an operation known to grow, for the
// reason why (a defect reported and not fixed yet): the test logs why
// and the repeated statements while it grows (it is not skipped: what it
// still checks is that the operation works at both volumes), and fails
// once it no longer grows, so that the note goes when the defect does.
func (s *Statements) KnownGrowth(t *testing.T, what, why string, small, large int, build func(t *testing.T, n int) func(ctx context.Context) error) {
	t.Helper()
	s.checkGrowth(t, what, why, small, large, build)
}

func (s *Statements) checkGrowth(t *testing.T, what, known string, small, large int, build func(t *testing.T, n int) func(ctx context.Context) error) {
	t.Helper()
	run := func(n int) []string {
		t.Helper()
		op := build(t, n)
		var err error
		sqls := s.Run(func(ctx context.Context) { err = op(ctx) })
		if err != nil {
			t.Fatalf("%s at %d: %v", what, n, err)
		}
		return sqls
	}
	a, b := run(small), run(large)
	allowed := len(a) + (large+GrowthChunk-1)/GrowthChunk
	t.Logf("%s: %d statements at %d, %d at %d", what, len(a), small, len(b), large)
	switch {
	case len(b) > allowed && known != "":
		// Reported, not hidden: the test passes and says so in its log
		// (go test -v), rather than skipping.
		t.Logf("%s: %d statements at %d, %d at %d (at most %d), known: %s; repeated:\n%s", what, len(a), small, len(b), large, allowed, known, Repeated(b))
	case len(b) > allowed:
		t.Errorf("%s: %d statements at %d, %d at %d (at most %d); repeated:\n%s", what, len(a), small, len(b), large, allowed, Repeated(b))
	case known != "":
		t.Errorf("%s no longer grows (%d statements at %d, %d at %d): take KnownGrowth's note (%s) out of the test", what, len(a), small, len(b), large, known)
	}
}

// Repeated lists the statements of sqls that ran more than once, by
// their shape (literals left out), most frequent first.
func Repeated(sqls []string) string {
	count := map[string]int{}
	for _, q := range sqls {
		shape := literals.ReplaceAllString(q, "?")
		if len(shape) > 200 {
			shape = shape[:200] + "…"
		}
		count[shape]++
	}
	var shapes []string
	for q, n := range count {
		if n > 1 {
			shapes = append(shapes, q)
		}
	}
	sort.Slice(shapes, func(i, j int) bool {
		if count[shapes[i]] != count[shapes[j]] {
			return count[shapes[i]] > count[shapes[j]]
		}
		return shapes[i] < shapes[j]
	})
	out := make([]string, len(shapes))
	for i, q := range shapes {
		out[i] = fmt.Sprintf("  %4d× %s", count[q], q)
	}
	return strings.Join(out, "\n")
}
