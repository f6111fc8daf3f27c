# Redraw with: cd <this directory> && gnuplot scale-memory.gp
set terminal svg size 900,540 dynamic noenhanced font 'Sans,13' background rgb 'white'
set output "scale-memory.svg"
set title "Memory per lease (RSS growth / leases), null engine" font ',15'
set xlabel "live leases"
set ylabel "RSS per lease: bytes"
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
set logscale x 2
set yrange [0:*]
set xtics ("100,000" 100000, "1,000,000" 1000000)
set xrange [66666.66667:1500000]
plot "scale-memory.dat" index 0 using 1:2 with linespoints lt 1 title "store none", \
     "scale-memory.dat" index 1 using 1:2 with linespoints lt 2 title "goal: 2 KB per lease"
