# Redraw with: cd <this directory> && gnuplot scale-lateness-over-time-100k-none.gp
set terminal svg size 900,540 dynamic noenhanced font 'Sans,13' background rgb 'white'
set output "scale-lateness-over-time-100k-none.svg"
set title "Lateness over the expiry window: 100,000 leases, store none" font ',15'
set xlabel "scheduled expiry: s after the first"
set ylabel "lateness of the leases due in that second: ms (log scale)"
set grid xtics ytics mxtics mytics lc rgb '#dddddd' lw 1, lc rgb '#f0f0f0' lw 1
set border 3 lc rgb '#555555'
set tics nomirror out
set datafile separator whitespace
set linetype 1 lc rgb '#0072B2' lw 2 pt 7 ps 1.1
set linetype 2 lc rgb '#D55E00' lw 2 pt 9 ps 1.1
set linetype 3 lc rgb '#009E73' lw 2 pt 11 ps 1.1
set linetype 4 lc rgb '#CC79A7' lw 2 pt 7 ps 1.1
set linetype 5 lc rgb '#E69F00' lw 2 pt 9 ps 1.1
set linetype 6 lc rgb '#56B4E9' lw 2 pt 11 ps 1.1
set linetype 7 lc rgb '#000000' lw 2 pt 7 ps 1.1
set key outside right top vertical box samplen 2 spacing 1.2
set logscale y 10
plot "scale-lateness-over-time-100k-none.dat" index 0 using 1:2 with lines lt 1 title "p50", \
     "scale-lateness-over-time-100k-none.dat" index 1 using 1:2 with lines lt 2 title "p99", \
     "scale-lateness-over-time-100k-none.dat" index 2 using 1:2 with lines lt 3 title "max"
