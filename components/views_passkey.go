package components

// PasskeyForm is the form that adds a passkey: where the ceremony's options
// come from (Options) and where its answer goes (Action), and the name
// proposed.
type PasskeyForm struct {
	Options, Action, Name string
}

// PasskeyAddURLs are the addresses of adding a passkey in the first visit
// and under "Tweede stap beheren".
const (
	PasskeyStepAction    = "/stap/passkey"
	PasskeyFactorsAction = "/account/tweede-stap/passkey"
)
