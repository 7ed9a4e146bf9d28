// dbload: PostgreSQL clients through Traefik's TCP entry point during releases (see main.go).
module bluegreen-operator/test/e2e/dbload

go 1.26.0

require github.com/jackc/pgx/v5 v5.13.0

require (
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	golang.org/x/text v0.41.0 // indirect
)

require bluegreen-operator/test/e2e/svgplot v0.0.0

// The pictures' drawing pieces, shared with test/e2e/loadgen.
replace bluegreen-operator/test/e2e/svgplot => ../svgplot
