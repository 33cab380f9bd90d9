package admin

import (
	"net/url"
	"strings"

	"github.com/gatehouse/gatehouse/store"
)

// searchFilters adds Keycloak's other user-search parameters to uq:
// firstName, lastName, q (space-separated key:value attribute pairs, each
// value matched exactly) and idpAlias/idpUserId (federated identity links).
func searchFilters(q url.Values, uq *store.UserQuery) error {
	uq.FirstName, uq.LastName = q.Get("firstName"), q.Get("lastName")
	uq.IDPAlias, uq.IDPUserID = q.Get("idpAlias"), q.Get("idpUserId")
	if uq.IDPUserID != "" && uq.IDPAlias == "" {
		return badRequest("query parameter idpUserId needs idpAlias")
	}
	for _, pair := range strings.Fields(q.Get("q")) {
		k, v, ok := strings.Cut(pair, ":")
		if !ok || k == "" {
			return badRequest("query parameter q must be key:value pairs separated by spaces")
		}
		if uq.Attributes == nil {
			uq.Attributes = map[string]string{}
		}
		uq.Attributes[k] = v
	}
	return nil
}

// briefUserRep is Keycloak's brief UserRepresentation
// (briefRepresentation=true): no attributes, required actions or
// credential details.
func briefUserRep(u store.User) userRep {
	full := toUserRep(u)
	return userRep{ID: full.ID, Username: full.Username, Email: full.Email, EmailVerified: full.EmailVerified,
		FirstName: full.FirstName, LastName: full.LastName, Enabled: full.Enabled, CreatedTimestamp: full.CreatedTimestamp}
}
