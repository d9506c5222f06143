//! The words of the pages, in Chinese (the default) and English. Every key is a field, so a
//! template that names a missing word does not compile.

/// The language of a page, from the `lang` cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The rules engine's language for explanations.
    pub fn rules(self) -> guanai_rules::explain::Lang {
        match self {
            Lang::Zh => guanai_rules::explain::Lang::Zh,
            Lang::En => guanai_rules::explain::Lang::En,
        }
    }

    /// Picks one of two words.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

macro_rules! texts {
    ($($key:ident: $zh:literal, $en:literal;)*) => {
        /// The words of the pages in one language.
        pub struct Texts { $(pub $key: &'static str,)* }
        pub static ZH: Texts = Texts { $($key: $zh,)* };
        pub static EN: Texts = Texts { $($key: $en,)* };
    };
}

texts! {
    app_name: "关爱 · 计划生育特殊困难家庭扶助", "Guanai · Special-difficulty family assistance";
    notice: "依据 临政办发〔2014〕42号", "Under Linyi notice 临政办发〔2014〕42号";
    dashboard: "工作台", "Dashboard";
    families: "家庭档案", "Families";
    payments: "资金发放", "Payments";
    census_import: "普查导入", "Census import";
    users: "用户管理", "Users";
    audit: "审计日志", "Audit log";
    account: "我的账户", "My account";
    sign_in: "登录", "Sign in";
    sign_out: "退出", "Sign out";
    login: "登录名", "Login";
    password: "密码", "Password";
    new_password: "新密码", "New password";
    current_password: "当前密码", "Current password";
    change_password: "修改密码", "Change password";
    sign_in_refused: "登录名或密码不正确", "Wrong login or password";
    sign_in_locked: "失败次数过多,账户暂时锁定,请稍后再试。解锁时间:", "Too many failures: the login is locked until";
    search: "查询", "Search";
    name: "姓名", "Name";
    name_hint: "姓名或姓氏", "Name or surname";
    area: "区域代码", "Area code";
    area_hint: "县区6位、乡镇9位或村12位代码", "6-digit county, 9-digit township or 12-digit village code";
    family_no: "家庭编号", "Family no.";
    id_number: "身份证号", "ID number";
    id_number_hint: "18位,精确查找", "18 characters, exact";
    village: "村(社区)", "Village";
    county: "县区", "County";
    members: "家庭成员", "Members";
    sort: "排序", "Sort";
    by_village: "按村和家庭编号", "by village and family no.";
    descending: "倒序", "descending";
    previous: "上一页", "Previous";
    next: "下一页", "Next";
    no_results: "没有找到符合条件的家庭。", "No family matches.";
    open: "打开", "Open";
    month: "月份", "Month";
    category: "类别", "Category";
    entitlements: "当月待遇", "Entitlements this month";
    monthly_assistance: "特别扶助金", "Monthly special assistance";
    standard_part: "上级标准", "Higher-level standard";
    county_part: "县级提标", "County part";
    yuan_per_month: "元/月", "yuan / month";
    one_time_grants: "一次性救助", "One-time grants";
    due_from: "应发起始", "Due from";
    services: "优先优惠服务", "Services";
    explanation: "依据说明", "Why (with clauses)";
    cannot_evaluate: "无法评估", "Cannot evaluate";
    timeline: "档案记录(从不覆盖)", "Records (never overwritten)";
    recorded_by: "记录人", "Recorded by";
    reason: "理由", "Reason";
    replaced: "已被更正", "corrected later";
    withdrawn: "撤销", "withdrawn";
    record_fact: "登记新情况", "Record a change";
    correct: "更正", "Correct";
    withdraw: "撤销此记录", "Withdraw this record";
    save: "保存", "Save";
    person: "人员", "Person";
    date: "日期", "Date";
    certificate_no: "证明编号", "Certificate no.";
    death: "死亡", "Death";
    later_child: "再生育或收养", "Later child or adoption";
    disability: "伤残等级评定", "Disability assessment";
    grade: "等级", "Grade";
    phone: "电话", "Phone";
    bank_account: "银行账户", "Bank account";
    bank: "开户行", "Bank";
    account_no: "账号", "Account";
    welfare: "低保/五保", "Dibao / wubao";
    dibao: "低保", "Dibao";
    wubao: "五保", "Wubao";
    health: "慢性病", "Chronic illness";
    chronically_ill: "患有慢性病", "chronically ill";
    living: "居住状况", "Living situation";
    move_registration: "户籍迁移", "Move of registration";
    hukou: "户口性质", "Hukou";
    urban: "城镇", "urban";
    rural: "农村", "rural";
    note: "备注", "Note";
    reveal: "查看完整信息", "Show unmasked";
    reveal_reason: "查看理由(将记入审计日志)", "Reason (written to the audit log)";
    masked_note: "身份证号、电话、银行账号默认脱敏显示。", "ID numbers, phones and bank accounts are masked by default.";
    payments_of_family: "发放记录", "Payments";
    ledger: "账户明细", "Ledger statement";
    contacts: "联系人", "Contacts";
    claims: "报销与救助申请", "Claims";
    run: "批次", "Run";
    status: "状态", "Status";
    kind: "项目", "Kind";
    nature: "性质", "Nature";
    for_month: "所属月份", "For month";
    amount: "金额(元)", "Amount (yuan)";
    total: "合计", "Total";
    lines: "明细", "Lines";
    build_run: "生成发放批次", "Build a payment run";
    all_counties: "全市", "whole city";
    check: "审核", "Check";
    approve: "批准", "Approve";
    discard: "作废", "Discard";
    export: "导出银行文件", "Export bank files";
    close: "结清关闭", "Close";
    hold_reason: "暂缓发放理由(有阻断问题时)", "Hold reason (when blocking problems remain)";
    problems: "问题", "Problems";
    blocking: "阻断", "blocking";
    transfers: "转账", "Transfers";
    upload_results: "上传银行回盘文件", "Upload the bank's return file";
    file: "文件", "File";
    upload: "上传", "Upload";
    created_by: "制单", "Built by";
    approved_by: "批准", "Approved by";
    higher_funds: "上级资金", "Higher-level funds";
    county_finance: "县级财政", "County finance";
    pending_approvals: "待批准的发放批次", "Runs awaiting approval";
    families_by_county: "各县区家庭数", "Families by county";
    families_by_category: "按类别", "By category";
    this_month_payments: "本月发放", "This month's payments";
    computing: "正在统计,请稍后刷新", "Being counted; refresh in a moment";
    none: "无", "none";
    not_found: "没有找到,或不在您的工作区域内。", "Not found, or outside your area.";
    forbidden: "您的角色不能执行此操作。", "Your role may not do this.";
    bad_request: "请求无效", "Bad request";
    break_glass: "临时查看其他区域家庭", "Temporary access to another area's family";
    break_glass_hint: "因工作需要(如跨县迁移)查看辖区外家庭:写明理由,限时只读,记入审计并告知该家庭所在县区。", "For a family outside your area (e.g. moving between counties): state why; read-only, time-limited, audited and shown to the family's county.";
    hours: "小时", "hours";
    request_access: "申请查看", "Request access";
    granted_until: "临时只读访问,有效至", "Temporary read-only access until";
    grants_on_area: "本区域家庭被临时查看的记录", "Break-the-glass access to families of this area";
    role: "角色", "Role";
    display_name: "姓名", "Name";
    active: "启用", "Active";
    deactivate: "停用", "Deactivate";
    activate: "启用", "Activate";
    add_user: "新增用户", "Add a user";
    set_password: "重设密码", "Set password";
    when: "时间", "When";
    actor: "操作人", "Who";
    action: "操作", "Action";
    target: "对象", "Target";
    filter: "筛选", "Filter";
    verify_chain: "校验审计链", "Verify the chain";
    saved: "已保存", "Saved";
    language: "English", "中文";
    print: "打印", "Print";
    errors_found: "发现错误,未导入任何数据:", "Errors found; nothing was imported:";
    row: "行", "Row";
    column: "列", "Column";
    imported: "导入完成", "Imported";
    template: "下载普查模板", "Download the census template";
    duty: "职责", "Duty";
    set_contact: "设置联系人", "Name a contact";
    // payments and import
    newest_first: "最新在前", "newest first";
    by_month: "按月份", "by month";
    by_status: "按状态", "by status";
    scope: "范围", "Scope";
    count: "笔数", "Count";
    ledger_start: "账期起始月(仅首个批次,可不填)", "Ledger start (first run only, optional)";
    nothing_new: "各户均已足额入账,无新增发放。", "Everything due is already booked: nothing new to pay.";
    families_checked: "核对户数", "Families checked";
    pending_in_run: "应发款项已在未报送的批次中", "What is due waits in the open run";
    county_only: "只能为本人工作区域内的县区生成批次。", "You can build runs only for counties in your area.";
    paying_account: "付款账户(银行文件用)", "Paying account (for bank files)";
    payer_name: "付款单位", "Paying unit";
    payer_set: "付款账户已设置。", "Paying account set.";
    summary: "概况", "Summary";
    moment: "事实截至", "Facts as of";
    policy: "政策", "Policy";
    ledger_first: "账期自", "Ledger from";
    arrears_from: "补发最远至", "Arrears back to";
    checked_by: "审核", "Checked by";
    exported_by: "报送", "Exported by";
    closed_by: "关闭", "Closed by";
    by_nature: "按性质", "By nature";
    funding_source: "资金来源 (二(二))", "Funding source (二(二))";
    beyond_limit: "超出补发期限未发", "Beyond the arrears limit (not paid)";
    other_problems: "其他提示", "Other notes";
    held: "已暂缓", "held";
    detail: "说明", "Detail";
    line_no: "序号", "No.";
    family: "家庭", "Family";
    due: "应发", "Due";
    booked_before: "原已入账", "Booked before";
    approve_hint: "须由制单人以外的财务人员批准(双人复核)。", "Must be approved by a finance officer other than the builder (four eyes).";
    execution_date: "银行执行日期", "Execution date";
    bank_files: "银行文件", "Bank files";
    files_missing: "服务器上找不到本批次的银行文件,请联系系统管理员。", "The bank files of this run are no longer on the server; ask the administrator.";
    sensitive_files: "文件含完整身份证号与银行账号,请妥善保管;每次下载均记入审计日志。", "The files hold full ID numbers and accounts: keep them safe. Every download is written to the audit log.";
    return_result: "回盘结果", "Bank return";
    paid: "到账", "Paid";
    returned: "被退回", "Returned";
    waiting: "待回盘", "Awaiting a result";
    fix_account: "请核实账户,更正后由下一批次补发。", "Check the account: the next run pays once it is corrected.";
    settled_can_close: "本批次已全部回盘,可以关闭。", "Every transfer has a result: the run can be closed.";
    done_built: "批次已生成。下一步:查看问题并审核。", "Run built. Next: review the problems and check it.";
    done_checked: "已审核。下一步:由另一位财务人员批准。", "Checked. Next: another finance officer approves it.";
    done_approved: "已批准并记账。下一步:导出银行文件。", "Approved and posted. Next: export the bank files.";
    done_discarded: "批次已作废,应发款项退回待发。", "Run discarded; what it paid is owed again.";
    done_exported: "已导出并报送银行。请下载银行文件。", "Exported to the bank. Download the bank files.";
    done_closed: "批次已关闭。", "Run closed.";
    refused: "未执行", "Refused";
    run_status_is: "当前状态为", "is";
    needs_status: "此操作需要状态", "this needs it to be";
    run_open: "该县区尚有未报送的批次,请先报送或作废", "An open run of the county must be exported or discarded first";
    concurrent: "同时有另一个批次生成并先提交,本次未写入任何数据,请重新生成。", "Another run was built at the same time and committed first; nothing was written: build again.";
    same_approver: "制单人不能批准自己生成的批次,须由另一位财务人员批准(双人复核)。制单人:", "The builder cannot approve their own run: another finance officer must approve it (four eyes). Built by:";
    blocked: "存在未解决的阻断问题:请解决后重新生成,或填写暂缓理由,暂缓相关转账后再审核。", "Blocking problems remain: resolve them and build again, or give a hold reason to hold the affected transfers.";
    return_mismatch: "回盘文件与本批次不符,未做任何更改:", "The return file does not match this run; nothing was changed:";
    return_again: "该回盘文件已导入过,未做任何更改。导入时间:", "This return file was already imported; nothing was changed. Imported at:";
    not_settled: "仍有转账未回盘,请先上传银行回盘文件。待回盘笔数:", "Transfers still await a bank result; upload the return file first. Awaiting:";
    choose_file: "请选择文件。", "Choose a file.";
    import_hint: "上传 .xlsx 或 .csv 普查文件。全部通过校验才导入:有任何错误则不导入任何数据。只能导入本人工作区域内的家庭。", "Upload a .xlsx or .csv census file. All or nothing: with any error nothing is imported. Only families of your area can be imported.";
    rows_read: "读取行数", "Rows read";
    families_added: "新增家庭", "Families added";
    families_unchanged: "已在档案中且未变(跳过)", "Already on file, unchanged (skipped)";
    download_errors: "下载错误清单", "Download the error report";
    outside_area: "不在您的工作区域内,不能导入", "is outside your area and cannot be imported";
    more_errors: "其余错误见错误清单,共", "More in the error report; errors in all:";
    reason_required: "请填写理由。", "give a reason.";
    upload_failed: "上传失败:文件过大或传输中断", "the upload failed: the file is too large or the transfer was cut off";
    census_refused: "文件被拒绝,未导入任何数据。", "The file was refused; nothing was imported.";
    // visits (二(一))
    visits: "走访", "Visits";
    visits_title: "走访 (二(一))", "Visits (二(一))";
    visit_plan: "走访计划", "Visit plan";
    this_year: "本年度", "this year";
    visit_level: "需求", "Need";
    window: "走访期", "Window";
    plan_made: "全市走访计划最近生成:", "The city's plan was last made:";
    no_plan: "本年度走访计划尚未生成。", "This year's visit plan has not been made yet.";
    no_periods: "本年度该家庭没有应走访的期次(不属于或不再属于走访对象,或档案不完整)。", "No visits are due for this family this year (not, or no longer, entitled, or the file is incomplete).";
    make_plan: "生成走访计划", "Make the visit plan";
    dedicated_visitor: "专人联系 (二(一))", "Dedicated visitor (二(一))";
    no_dedicated: "未落实专人联系:该家庭有60周岁以上或患病的失独父母,须指定专人定期走访 (二(一))。", "No dedicated visitor: a bereaved parent of this family is 60 or over or ill and needs one (二(一)).";
    assign_dedicated: "指定专人", "Name a dedicated visitor";
    replace_dedicated: "更换专人", "Replace the dedicated visitor";
    unit: "单位/职务", "Unit or post";
    since: "自", "since";
    visit_records: "走访记录", "Visit records";
    visited_on: "走访日期", "Visit date";
    occasion: "走访类型", "Occasion";
    visitor: "走访人", "Visitor";
    found: "走访情况", "What was found";
    found_hint: "身体、生活、情绪等情况", "health, living conditions, mood";
    needs: "反映诉求", "Needs raised";
    follow_up: "后续事项", "Follow-up";
    follow_up_due: "办理期限", "Deadline";
    follow_up_result: "办理结果", "Result";
    close_follow_up: "办结后续事项", "Close the follow-up";
    follow_up_late: "已超期", "past its deadline";
    record_visit: "登记走访", "Record a visit";
    withdraw_visit: "撤销此走访记录", "Withdraw this visit record";
    overdue: "逾期", "Overdue";
    due_soon: "即将到期", "Due soon";
    without_dedicated: "未落实专人", "Without a dedicated visitor";
    visit_figures: "走访完成情况", "Visit figures";
    periods_planned: "应走访期次", "Periods planned";
    periods_due: "已到期", "Due so far";
    periods_done: "已走访", "Visited";
    coverage: "到期完成率", "Coverage of due";
    need_dedicated: "需专人户数", "Need a dedicated visitor";
    year: "年度", "Year";
    plan_hint: "按当前政策与档案重新计算所选年度每户的走访期次;已登记的走访保留并重新对应。", "Works out every family's visit periods for the year again from the files and the policy; recorded visits are kept and matched again.";
    no_due: "没有需要列出的走访。", "Nothing to list.";
    visits_card: "本年度走访", "Visits this year";
    format_xlsx: "代发 XLSX", "Disbursement XLSX";
    format_csv: "代发 CSV", "Disbursement CSV";
    format_pain001: "pain.001 XML", "pain.001 XML";
}
