from services.measures.bootstrap import main

main()
