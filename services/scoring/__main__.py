from services.scoring.bootstrap import main

main()
