package admin

import "net/http"

// keyMetadataRep is Keycloak's KeyMetadataRepresentation. Gatehouse keys
// carry no certificate, so certificate and validTo are absent.
type keyMetadataRep struct {
	ProviderID       string `json:"providerId"`
	ProviderPriority int64  `json:"providerPriority"`
	KID              string `json:"kid"`
	Status           string `json:"status"`
	Type             string `json:"type"`
	Algorithm        string `json:"algorithm"`
	PublicKey        string `json:"publicKey"`
	Use              string `json:"use"`
}

// realmKeys is GET /admin/realms/{realm}/keys (Keycloak requires
// view-realm).
func (a *API) realmKeys(w http.ResponseWriter, r *http.Request) error {
	rl, err := a.targetRealm(r, viewRealm)
	if err != nil {
		return err
	}
	keys, active, err := a.svc.KeysMetadata(r.Context(), rl)
	if err != nil {
		return err
	}
	out := struct {
		Active map[string]string `json:"active"`
		Keys   []keyMetadataRep  `json:"keys"`
	}{Active: active, Keys: []keyMetadataRep{}}
	for _, k := range keys {
		out.Keys = append(out.Keys, keyMetadataRep{ProviderID: k.ProviderID, ProviderPriority: 100, KID: k.KID,
			Status: k.Status, Type: k.Type, Algorithm: k.Algorithm, PublicKey: k.PublicKey, Use: "SIG"})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
