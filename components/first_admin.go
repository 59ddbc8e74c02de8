package components

// FirstAdminView is the page of the link printed at the first start, where
// the first admin's mail address is chosen.
type FirstAdminView struct {
	Action  string // where the form posts: the link itself
	OrgName string
	Email   string // as typed, after a mistake
	Error   string // translated, for the address
}
