package realms

import (
	"time"

	"github.com/gatehouse/gatehouse/store"
)

// Keycloak's default clients of every realm, besides realm-management.
const (
	AccountClientID              = "account"
	AccountConsoleClientID       = "account-console"
	BrokerClientID               = "broker"
	SecurityAdminConsoleClientID = "security-admin-console"
)

// AccountRoles are the roles of the account client; manage-account implies
// manage-account-links and manage-consent implies view-consent, as in
// Keycloak.
var AccountRoles = []string{
	"manage-account", "view-profile", "manage-account-links", "view-applications",
	"view-consent", "manage-consent", "delete-account", "view-groups",
}

// Client attributes the default clients carry.
const (
	attrPKCEMethod          = "pkce.code.challenge.method"
	attrPostLogoutRedirects = "post.logout.redirect.uris"
	// attrRealmClient marks the clients Keycloak treats as part of the
	// realm itself (broker, realm-management).
	attrRealmClient = "realm_client"
)

// defaultClients returns Keycloak's default clients of realm name (admin-cli,
// account, account-console, broker, security-admin-console) and the roles
// they own. security-admin-console and account-console are set up for the
// browser (authorization-code) login: public, standard flow, PKCE S256.
func defaultClients(name string, now time.Time) ([]store.Client, []store.Role) {
	client := func(clientID string, fn func(*store.Client)) store.Client {
		c := store.Client{ID: NewID(), ClientID: clientID, Name: "${client_" + clientID + "}", Enabled: true,
			StandardFlowEnabled: true, CreatedAt: now}
		fn(&c)
		return c
	}
	accountURIs := []string{"/realms/" + name + "/account/*"}
	browser := func(c *store.Client, redirects []string) {
		c.PublicClient = true
		c.RedirectURIs = redirects
		c.Attributes = map[string]string{attrPKCEMethod: "S256", attrPostLogoutRedirects: "+"}
	}
	account := client(AccountClientID, func(c *store.Client) {
		c.PublicClient = true
		c.RedirectURIs = accountURIs
		c.Attributes = map[string]string{attrPostLogoutRedirects: "+"}
	})
	clients := []store.Client{
		client(AdminCLIClientID, func(c *store.Client) {
			c.PublicClient, c.StandardFlowEnabled, c.DirectAccessGrantsEnabled = true, false, true
		}),
		account,
		client(AccountConsoleClientID, func(c *store.Client) { browser(c, accountURIs) }),
		client(BrokerClientID, func(c *store.Client) {
			c.BearerOnly = true
			c.Attributes = map[string]string{attrRealmClient: "true"}
		}),
		client(SecurityAdminConsoleClientID, func(c *store.Client) {
			browser(c, []string{"/admin/" + name + "/console/*"})
			c.WebOrigins = []string{"+"}
		}),
	}
	ids := map[string]string{}
	var roles []store.Role
	for _, r := range AccountRoles {
		role := store.Role{ID: NewID(), Name: r, ClientID: account.ID, Description: "${role_" + r + "}"}
		ids[r] = role.ID
		roles = append(roles, role)
	}
	for i := range roles {
		switch roles[i].Name {
		case "manage-account":
			roles[i].Composites = []string{ids["manage-account-links"]}
		case "manage-consent":
			roles[i].Composites = []string{ids["view-consent"]}
		}
	}
	roles = append(roles, store.Role{ID: NewID(), Name: "read-token", ClientID: clients[3].ID, Description: "${role_read-token}"})
	return clients, roles
}
