"""`make bench BENCH_ARGS="--peer oscar"`: Kassa beside django-oscar, the same products in each.

catalog      the one list of products both shops hold (names, descriptions, prices)
oscar        Oscar's own virtualenv (requirements.txt), its database, its gunicorn
compare      the part in order: both shops set up, the rounds, the query counts
report       the table: each shop's figures and Kassa ÷ Oscar, round by round
project/     the Oscar shop itself (settings, URLs, the trivial view, oscar_side.py's steps);
             it runs in Oscar's virtualenv only, never imported by the bench
"""
