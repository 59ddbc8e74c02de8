package auth

import (
	"strings"
	"testing"

	"dialoog/netguard"
)

// FuzzSSOSettings: the mail domains and issuer an admin types. Accepted
// domains are lower-case, sorted, without duplicates, and parse to
// themselves again; an accepted issuer is https, or http on a loopback
// host.
func FuzzSSOSettings(f *testing.F) {
	for _, s := range []string{"osaw.nl", "@OSAW.nl, zorg.nl osaw.nl", "", "a", "xn--bcher-kva.example", "osaw..nl", "-a.nl", "https://login.example/tenant/v2.0", "http://127.0.0.1:9000", "http://localhost", "http://idp.example", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ds, err := parseDomains(s); err == nil {
			again, err := parseDomains(strings.Join(ds, " "))
			if err != nil || strings.Join(again, " ") != strings.Join(ds, " ") {
				t.Fatalf("%q: %v does not parse to itself (%v, %v)", s, ds, again, err)
			}
			for _, d := range ds {
				if d != strings.ToLower(d) || strings.ContainsAny(d, "@ ,") {
					t.Fatalf("%q: domain %q", s, d)
				}
			}
		}
		if iss, err := checkIssuer(s, netguard.Networks{}); err == nil {
			if l := strings.ToLower(iss); !strings.HasPrefix(l, "https://") && !strings.HasPrefix(l, "http://") {
				t.Fatalf("%q: issuer %q", s, iss)
			}
		}
	})
}

// TestSSODomainsLongestList: 50 domains of the longest length, with
// their separators, fit in MaxSSODomainsLen and are taken whole; a list
// longer than it is refused, also when it holds a valid list.
func TestSSODomainsLongestList(t *testing.T) {
	label := strings.Repeat("a", 63)
	var typed []string
	for i := range 50 {
		d := strings.Join([]string{label, label, label, label[:59] + string(rune('a'+i/26)) + string(rune('a'+i%26))}, ".")
		if len(d) != 253 {
			t.Fatalf("domain of %d bytes", len(d))
		}
		typed = append(typed, "@"+d)
	}
	list := strings.Join(typed, ", ")
	if len(list) > MaxSSODomainsLen {
		t.Fatalf("the longest valid list is %d bytes, more than %d", len(list), MaxSSODomainsLen)
	}
	if ds, err := parseDomains(list); err != nil || len(ds) != 50 {
		t.Fatalf("the longest valid list: %d domains, %v", len(ds), err)
	}
	if _, err := parseDomains("osaw.nl" + strings.Repeat(" ", MaxSSODomainsLen)); err == nil {
		t.Fatal("a list longer than MaxSSODomainsLen is taken")
	}
}
