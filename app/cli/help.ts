/** Help texts for `lockbridge` and each command (`--help` everywhere). */

export const MAIN_HELP = `lockbridge — OpenPGP end-to-end encryption in front of any IMAP/SMTP mailbox

usage: lockbridge [--home DIR] <command> [options]

commands:
  init                     create the encrypted store, local TLS certificate and local password
  account add|list|remove|password|signin|repair
                           manage remote provider accounts
  keys generate|import|export|list|show
                           own OpenPGP keys and contacts' public keys
  certs import|export|issue|list|trust|distrust|directory
                           S/MIME certificates: yours (PKCS#12), correspondents', trusted CAs,
                           the LDAP directory to find recipients' certificates in
  import                   import .eml or mbox files into the local store
  export                   write an account's decrypted mail as .eml files or one mbox file
  serve                    run the bridge (IMAP and SMTP on 127.0.0.1)
  credentials              how a mail client connects (host, ports, user, local password)
  status                   accounts, sync progress, outbox, last errors
  ui                       print (--open: open) the running bridge's UI address
  report                   write a bug-report bundle (redacted logs, states, store health)

global options:
  --home DIR               data directory (default: $LOCKBRIDGE_HOME, else the OS convention)
  -h, --help               show help (also after any command)
  --version                print the version

environment:
  LOCKBRIDGE_PASSPHRASE          the store passphrase (else a prompt on a terminal)
  LOCKBRIDGE_PROVIDER_PASSWORD   the provider password for 'account add' (else a prompt)
  LOCKBRIDGE_LOCAL_PASSWORD      a fixed local password for 'init' (scripted setups)
  LOCKBRIDGE_CONTROL_PORT        the control (and UI) port 'serve' uses when --control-port is not given
  LOCKBRIDGE_OAUTH_<P>_CLIENT_ID the OAuth client id for profile P (GOOGLE, MICROSOFT, ...), _CLIENT_SECRET its secret

exit codes: 0 success, 1 error (one line on stderr), 2 bad usage`;

export const HELP: Record<string, string> = {
  init: `usage: lockbridge init

Creates the encrypted store in the data directory, a local CA and server certificate for
127.0.0.1/::1/localhost, and a random local password (or $LOCKBRIDGE_LOCAL_PASSWORD).
The passphrase comes from $LOCKBRIDGE_PASSPHRASE or a prompt. Refuses to overwrite a store.`,
  account: `usage: lockbridge account add --email E --imap HOST:PORT --smtp HOST:PORT
                              [--security starttls|tls|none] [--user U] [--ca FILE]
       lockbridge account add --email E --oauth auto|google|microsoft|yahoo|aol|fastmail|oidc
                              [--issuer URL] [--client-id ID] [--client-secret-file F] [--scope S]...
                              [--imap HOST:PORT --smtp HOST:PORT --security S] [--ca FILE]
       lockbridge account list [--json]
       lockbridge account remove E [--keep-mail] [--yes]
       lockbridge account password E [--password-file F]
       lockbridge account signin E [--oauth PROFILE] [--issuer URL] [--client-id ID] [--scope S]...
       lockbridge account repair E [--json]

add     verifies the provider login, then saves the account (provider password from
        $LOCKBRIDGE_PROVIDER_PASSWORD or a prompt). --ca trusts a private CA (PEM file).
        With --oauth it signs in with OAuth 2.0 instead (XOAUTH2/OAUTHBEARER): prints an address
        to open in a browser, waits for the redirect on 127.0.0.1 (on a terminal you may paste
        the address the browser ended on instead), keeps the tokens in the encrypted store. The
        client id comes from --client-id or $LOCKBRIDGE_OAUTH_<PROFILE>_CLIENT_ID (and
        _CLIENT_SECRET); 'auto' takes the profile of the address's domain, or the one the
        domain's published provider settings name; 'oidc' discovers the endpoints of --issuer
        and needs --scope. For a signed-out account (remove --keep-mail) it signs in again with
        the same IMAP server and login name, keeping its local mail: the next sync downloads
        only what is new; another server is refused (remove the account first).
list    lists accounts (a signed-out one says so)
remove  removes an account and deletes its local mail (asks, unless --yes). With --keep-mail
        it signs out instead: sync stops, the provider password (or OAuth tokens) is deleted,
        and its folders, messages, flags and waiting local changes stay here, still served to
        your mail program; 'account add' signs it in again without downloading it all again
password  signs in again after the provider password changed: checks the new one (IMAP and
        SMTP), saves it and resumes sync; local mail is kept (password from --password-file,
        $LOCKBRIDGE_PROVIDER_PASSWORD or a prompt)
signin  signs an OAuth account in again ("sign in again" in status): the browser flow of add
        --oauth, with the account's profile, issuer, client id and scopes unless given; the new
        token is checked at IMAP and SMTP, local mail is kept, sync resumes at once
repair  re-checks every folder against the provider (UIDVALIDITY, every UID, the stored bytes
        of every local copy) and fetches again what is missing or damaged locally; prints the
        counts per folder. Local flags, changes waiting for the provider and the UIDs of intact
        messages are kept; nothing is written at the provider. Through the running bridge, else
        with the store opened here (needs the passphrase)`,
  keys: `usage: lockbridge keys generate E
       lockbridge keys import FILE [--passphrase-file F]
       lockbridge keys export E [--secret]
       lockbridge keys list [--json]
       lockbridge keys show E

generate  makes a new own key (v4 Ed25519/Cv25519) for address E
import    imports armored OpenPGP keys (own secret keys or contacts' public keys). A
          passphrase-protected secret key (gpg, Thunderbird exports) is unlocked with the
          first line of --passphrase-file F, or a passphrase asked on the terminal; it is
          then kept under the store's encryption, the passphrase is not kept
export    prints the armored public key of E (with --secret: the secret key too; this
          counts as your backup)
list      own keys and contacts' keys with source and trust
show      details of the keys for E`,
  certs: `usage: lockbridge certs import FILE [--passphrase-file F] [--trusted]
       lockbridge certs issue E [--algorithm rsa|ec]
       lockbridge certs export E|FINGERPRINT [--pkcs12 --passphrase-file F] [--out FILE]
       lockbridge certs list [--json]
       lockbridge certs trust|distrust FINGERPRINT
       lockbridge certs directory [--url ldap[s]://HOST[:PORT] --base-dn DN [--bind-dn DN
                                  [--password-file F]] [--timeout MS] | --off]

import    a PKCS#12 file (.p12/.pfx: your certificate and private key; its passphrase from the
          first line of --passphrase-file F, or asked on the terminal) is kept under the store's
          encryption; PEM or DER certificates are kept as correspondents' certificates, or as
          trust anchors with --trusted (with a PKCS#12: its chain is trusted); a CRL (PEM or
          DER) is kept too: a signer certificate it revokes (once its issuer's signature on
          the CRL verifies) makes S/MIME signatures invalid; revoked=DATE — as does a CRL the
          signed message carries
issue     issues an S/MIME certificate for your address E (RSA 3072, or EC P-256 with
          --algorithm ec; valid two years) signed by Lockbridge's own intermediate CA under its
          own root CA (both made on the first issue, reused for your other addresses; the root
          is trusted here) and keeps it with its key as your own; install and trust the root
          (in the PEM and PKCS#12 exports) once on your other devices
export    prints a certificate as PEM (yours by address or fingerprint, with its chain; others'
          by fingerprint), or writes it to --out FILE; with --pkcs12 writes your certificate,
          private key and chain to --out FILE as PKCS#12 (3DES, the format gpgsm 2.2, OpenSSL
          and NSS all import), protected by the first line of --passphrase-file F or a
          passphrase asked twice on the terminal
list      your certificates and the others held, with addresses, expiry and trust; yours
          EXPIRED, or EXPIRES SOON within 30 days
trust     makes a held certificate (by its SHA-256 fingerprint) a trust anchor; distrust undoes it
directory the LDAP directory where, when you send, the certificate of a recipient without a
          held one is looked up: a subtree search under --base-dn for (mail=ADDRESS) (the
          address escaped as RFC 4515 says), userCertificate taken; a certificate that names
          the address, is valid now and allows encryption is kept (source 'directory') and
          used. --bind-dn binds as that DN with the password from the first line of
          --password-file F (or asked on a terminal), kept under the store's encryption;
          without it the search is anonymous. Each send waits at most --timeout MS (default
          3000) for it; a directory that is down or slow is logged and shown in status, and
          the message goes by the usual policy. Without options: the directory and its last
          lookup; --off removes it`,
  import: `usage: lockbridge import --account E [--mailbox NAME] FILE...

Imports .eml files or mbox files into the local store (default mailbox INBOX), streamed.
When a bridge is serving, the import goes through it, so connected clients see it at once.
On a terminal a progress line shows the count, rate and ETA (also through a serving bridge).
A file that does not start with header fields (not mail) is refused; if nothing could be
imported the command exits 1.`,
  export: `usage: lockbridge export --account E [--mailbox NAME] DIR|FILE.mbox

Writes the account's mail, decrypted, exactly as the local IMAP server serves it (CRLF line
ends): every folder, or only --mailbox NAME. DIR gets a folder per mail folder (nested like
the folders; characters that are unsafe in file names, and '.'/'..', percent-encoded) holding
one <uid>.eml per message. A target ending in .mbox gets one mboxrd file: 'From ' separator
lines with the message's date, lines starting with 'From ' or '>From ' quoted with one more
'>', CRLF line ends kept (a message without a line break at its end gets a bare LF, which
'lockbridge import' takes off again). The target must not exist (its parent folder must) or
be empty: nothing is overwritten. On a full disk an mbox keeps only whole messages. Files
are created readable by you only (0600). When a bridge is serving, the export goes through
it. On a terminal a progress line shows the count, rate and ETA.`,
  serve: `usage: lockbridge serve [--imap-port N] [--smtp-port N] [--control-port N] [--offline] [--ui] [--json]

Runs the bridge: IMAP (default 1143) and SMTP (default 1025) on 127.0.0.1, and the control API.
Port 0 picks a free port. --offline never contacts providers. --ui serves the web UI on the
control port. Prints one JSON ready line on stdout when every listener is up.
On a terminal, logs on stderr are human lines (local time, level, module, message, fields) and a
summary follows the ready line; piped or with --json they are JSON lines.`,
  credentials: `usage: lockbridge credentials [--json] [--cert FILE] [--reset]

Shows how a mail client connects: host, ports, security, username, local password.
--cert FILE writes the local CA certificate (PEM) for the client to trust once.
--reset makes a new local password.`,
  ui: `usage: lockbridge ui [--open] [--json]

Prints the UI address (with its access token) of the bridge serving this data directory
(started with 'serve --ui'); --open opens it in the default browser. The token changes at every
start; the port stays when you pin it with --control-port N or $LOCKBRIDGE_CONTROL_PORT.`,
  report: `usage: lockbridge report --out FILE [--include-personal]

Writes a bug-report bundle to FILE: one JSON file you can read before sending it. It holds the
version, platform, settings, account states (as 'status --json'), the recent log lines with
their account and error fields, and store health (integrity check, message and folder counts,
pending changes). Addresses, subjects, personal folder names, provider host names and IP
addresses are replaced by placeholders (the same value, the same placeholder), also inside log
text; --include-personal keeps them. Secrets (passwords, the passphrase, the local password,
the control token, keys) are never included.
With a running bridge the report comes from it; otherwise the store is opened with
$LOCKBRIDGE_PASSPHRASE or a passphrase asked at a terminal (Enter skips); without it the report
has the version, platform and logs only, and says so.`,
  status: `usage: lockbridge status [--json]

Per account: connection, sync progress, outbox length, last error. Your S/MIME certificates
that expired or expire within 30 days (unless a newer one covers their addresses).
With no bridge running these are read from the store, which needs the passphrase
($LOCKBRIDGE_PASSPHRASE, or a prompt at a terminal that Enter skips); without it, status says
only that the bridge is not running and where the data and logs are.`,
};
