// svgplot: the drawing pieces the e2e pictures share (loadgen's HTTP pictures, dbload's database-route
// picture), so both look alike. Used through a local replace line; no dependencies.
module bluegreen-operator/test/e2e/svgplot

go 1.26.0
