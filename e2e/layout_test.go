package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// checksBesideLabels fails on a visible checkbox field (.field--check)
// whose label does not sit right beside its box, on the same line, or
// whose hint does not start under the label: a hint as wide as the form
// must not widen the box's column and push the label to the far side.
func (b *browser) checksBesideLabels(name string) {
	b.t.Helper()
	bad := evalJS[[]string](b, `[...document.querySelectorAll('.field--check')].filter(f => f.checkVisibility()).flatMap(f => {
  const box = f.querySelector('input[type=checkbox]'), label = f.querySelector('label');
  if (!box || !label) return [];
  const a = box.getBoundingClientRect(), l = label.getBoundingClientRect(), out = [];
  const gap = l.left - a.right;
  if (gap < 0 || gap > 24 || Math.abs(l.top - a.top) > 16) out.push(box.id + ': label ' + Math.round(gap) + ' px beside its box');
  for (const h of f.querySelectorAll('.hint')) {
    if (Math.abs(h.getBoundingClientRect().left - l.left) > 2) out.push(box.id + ': hint not under its label');
  }
  return out;
})`)
	if len(bad) > 0 {
		b.t.Errorf("%s: %s", name, strings.Join(bad, "; "))
	}
}

// TestFormsListsAndTabs: the checkboxes with a hint (the compose form's
// "Bevat medische informatie", the team form's medical and display choices)
// keep their label beside the box and the hint under the label, and the
// inbox's team boxes read as tabs, and Beheer's list of users as a list of
// people, on a desktop and on a phone.
func TestFormsListsAndTabs(t *testing.T) {
	s, _, gw := startMailServer(t)
	hr := caseManager(t, s, gw)
	if res := runCLI(t, s.env, "team", "create", "OSAW Verzuim"); res.Code != 0 {
		t.Fatalf("dialoog team create: %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res := runCLI(t, s.env, "team", "add", "OSAW Verzuim", s.AdminMail); res.Code != 0 {
		t.Fatalf("dialoog team add: %d\n%s%s", res.Code, res.Stdout, res.Stderr)
	}
	s.Invite(t, "piet@osaw.nl", "--internal") // someone with buttons in Beheer's list
	for _, width := range []int64{1280, 360} {
		hr.run(chromedp.EmulateViewport(width, 800))
		hr.run(chromedp.Navigate(s.BaseURL + "/berichten/nieuw"))
		hr.step("compose", "Onderwerp")
		if hr.count("#compose-medical") != 1 {
			t.Fatal("no medical choice on the compose form")
		}
		hr.checksBesideLabels("compose")
		hr.run(chromedp.Navigate(s.BaseURL + "/beheer/teams"))
		hr.step("teams", "")
		hr.click("OSAW Verzuim")
		hr.waitJS("the team's page", `/^\/beheer\/teams\/\d+$/.test(location.pathname)`)
		if hr.count(".field--check .hint") < 2 {
			t.Fatal("no choices with hints on the team's page")
		}
		hr.checksBesideLabels("team")
		hr.run(chromedp.Navigate(s.BaseURL + "/berichten"))
		hr.step("team-tabs", "")
		hr.teamTabs("inbox", "Alle berichten")
		hr.click("OSAW Verzuim")
		hr.waitJS("the team's box", `location.search.includes('team=') && document.readyState === 'complete' &&
  (document.querySelector('nav.team-tabs a[aria-current="page"]') || {innerText: ''}).innerText.startsWith('OSAW Verzuim')`)
		hr.teamTabs("team box", "OSAW Verzuim")
		hr.run(chromedp.Navigate(s.BaseURL + "/beheer/gebruikers"))
		hr.step("users", "")
		hr.adminUsers("users")
	}
}

// adminUsers fails unless Beheer's list of users reads as a list of
// people: no list bullets, a person's buttons side by side where there is
// room, and the invitation's role choices as large as other choices (44 px).
func (b *browser) adminUsers(name string) {
	b.t.Helper()
	bad := evalJS[[]string](b, `(() => {
  const out = [];
  const items = [...document.querySelectorAll('.admin-user')];
  if (items.length === 0) return ['no users listed'];
  if (items.some(li => getComputedStyle(li).listStyleType !== 'none')) out.push('list bullets');
  for (const acts of document.querySelectorAll('.admin-user__actions')) {
    const tops = new Set([...acts.querySelectorAll('button')].map(e => Math.round(e.getBoundingClientRect().top)));
    if (innerWidth >= 600 && tops.size > 1) out.push("a person's buttons are stacked");
  }
  const radios = [...document.querySelectorAll('input[name=role]')];
  if (radios.length !== 2) out.push(radios.length + ' role choices');
  for (const r of radios) {
    const l = r.closest('label') || document.querySelector('label[for="' + r.id + '"]');
    if (!l || l.getBoundingClientRect().height < 44) out.push('role choice ' + r.value + ' is under 44 px');
  }
  return out;
})()`)
	if len(bad) > 0 {
		b.t.Errorf("%s: %s", name, strings.Join(bad, "; "))
	}
}

// teamTabs fails unless the inbox's team tabs read as tabs: without list
// bullets, side by side on one line where there is room (a phone may wrap
// them), and the current one (current) looks different from the others.
func (b *browser) teamTabs(name, current string) {
	b.t.Helper()
	bad := evalJS[[]string](b, `(() => {
  const out = [], links = [...document.querySelectorAll('nav.team-tabs a')];
  if (links.length < 2) return ['no team tabs'];
  const tops = new Set(links.map(a => Math.round(a.getBoundingClientRect().top)));
  if (innerWidth >= 600 && tops.size > 1) out.push('the tabs are not on one line');
  for (const li of document.querySelectorAll('nav.team-tabs li')) {
    if (getComputedStyle(li).listStyleType !== 'none') out.push('list bullets');
  }
  const cur = links.filter(a => a.getAttribute('aria-current') === 'page');
  if (cur.length !== 1 || !cur[0].innerText.startsWith(`+jsString(current)+`)) return out.concat(['current tab: ' + cur.map(a => a.innerText).join()]);
  const look = a => { const st = getComputedStyle(a); return [st.backgroundColor, st.color, st.borderBottomColor, st.borderBottomWidth].join(); };
  if (links.some(a => a !== cur[0] && look(a) === look(cur[0]))) out.push('the current tab looks like the others');
  return out;
})()`)
	if len(bad) > 0 {
		b.t.Errorf("%s: %s", name, strings.Join(bad, "; "))
	}
}
