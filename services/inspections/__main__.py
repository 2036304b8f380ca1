from services.inspections.bootstrap import main

main()
