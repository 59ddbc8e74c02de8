package components

// SealVerifyView is "Document controleren": the upload form and, after a
// check, its verdict. Checked is false on the empty form.
type SealVerifyView struct {
	Checked bool
	// Sealed: Dialoog sealed the file and it is unchanged since; then
	// Organisation names the sealer and Evidence (when HasEvidence) is
	// what the sealed file's evidence says.
	Sealed       bool
	Organisation string
	FileName     string
	HasEvidence  bool
	Evidence     SealEvidenceView
	// Problem is the sentence that says why a checked file is refused.
	Problem   string
	FileError string
}

// SealEvidenceView is the evidence of a sealed file, as text.
type SealEvidenceView struct {
	Organisation, DocumentName, SHA256, RequestedBy string
	Pages                                           int
	RequestedAtUTC, RequestedAtLocal                string
	Signers                                         []SealSignerView
}

// SealSignerView is one signer's evidence.
type SealSignerView struct {
	Name, Email, Method, AtUTC, AtLocal, IP, UserAgent string
}
