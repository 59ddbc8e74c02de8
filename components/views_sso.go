package components

// LoginSSOView is the "Inloggen met je organisatie" block of the login
// page: what was typed and the messages.
type LoginSSOView struct {
	Email      string
	EmailError string
	// Error is a refused login's message (translated).
	Error string
}

// AdminSSOView is the organisation's provider in Beheer, as stored or as
// typed, with the field messages. The client secret is never shown.
type AdminSSOView struct {
	Configured                          bool
	Issuer, ClientID, Domains           string
	CreateUsers                         bool
	IssuerError, ClientIDError          string
	ClientSecretError, DomainsError     string
	CallbackURL, BackChannelURL, Notice string
}
